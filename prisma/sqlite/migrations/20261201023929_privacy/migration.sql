-- CreateTable
CREATE TABLE "settings" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "value" TEXT NOT NULL,
    "updated_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "erasures" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "wa_id_hash" TEXT NOT NULL,
    "client_id" INTEGER,
    "threads" INTEGER NOT NULL,
    "messages" INTEGER NOT NULL,
    "status_events" INTEGER NOT NULL,
    "raw_events" INTEGER NOT NULL,
    "actor" TEXT NOT NULL,
    "erased_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "tombstones" (
    "hash" TEXT NOT NULL PRIMARY KEY,
    "erased_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "api_tokens" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" DATETIME,
    "revoked_at" DATETIME
);

-- CreateIndex
CREATE INDEX "erasures_wa_id_hash_idx" ON "erasures"("wa_id_hash");

-- CreateIndex
CREATE UNIQUE INDEX "api_tokens_name_key" ON "api_tokens"("name");

-- CreateIndex
CREATE UNIQUE INDEX "api_tokens_token_hash_key" ON "api_tokens"("token_hash");


-- Stored text that happens to start like a sealed value ("enc:v1:") or like the escape marker
-- ("plain:") gets the marker, so it is never mistaken for encrypted content (src/privacy/crypto.ts).
UPDATE "messages" SET "content" = 'plain:' || "content" WHERE substr("content", 1, 7) = 'enc:v1:' OR substr("content", 1, 6) = 'plain:';
UPDATE "messages" SET "raw" = 'plain:' || "raw" WHERE substr("raw", 1, 7) = 'enc:v1:' OR substr("raw", 1, 6) = 'plain:';
UPDATE "message_status_events" SET "raw" = 'plain:' || "raw" WHERE substr("raw", 1, 7) = 'enc:v1:' OR substr("raw", 1, 6) = 'plain:';
UPDATE "raw_events" SET "payload" = 'plain:' || "payload" WHERE substr("payload", 1, 7) = 'enc:v1:' OR substr("payload", 1, 6) = 'plain:';
