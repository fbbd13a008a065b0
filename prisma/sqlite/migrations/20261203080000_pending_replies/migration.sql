-- CreateTable
CREATE TABLE "pending_replies" (
    "thread_id" INTEGER NOT NULL PRIMARY KEY,
    "seq" INTEGER NOT NULL DEFAULT 1,
    "claimed_seq" INTEGER,
    "lease_owner" TEXT,
    "lease_until" DATETIME,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "pending_replies_thread_id_fkey" FOREIGN KEY ("thread_id") REFERENCES "threads" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "daemon_roles" (
    "role" TEXT NOT NULL PRIMARY KEY,
    "owner" TEXT NOT NULL,
    "lease_until" DATETIME NOT NULL,
    "started_at" DATETIME NOT NULL
);

-- CreateIndex
CREATE INDEX "pending_replies_lease_until_idx" ON "pending_replies"("lease_until");

-- Answers a stopped daemon left 'sending': their conversations are claimed by nobody alive, so the
-- first daemon to claim one marks them failed (never sent again).
INSERT INTO "pending_replies" ("thread_id", "lease_owner", "lease_until", "created_at")
SELECT DISTINCT "thread_id", 'before-upgrade', 0, CAST(unixepoch('subsec') * 1000 AS INTEGER)
FROM "messages" WHERE "role" = 'assistant' AND "status" = 'sending';
