-- AlterTable
ALTER TABLE "messages" ADD COLUMN "answers_wamid" TEXT;

-- CreateTable
CREATE TABLE "conversations" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "thread_id" INTEGER NOT NULL,
    "client_id" INTEGER NOT NULL,
    "started_at" DATETIME NOT NULL,
    "last_message_at" DATETIME NOT NULL,
    "ended_at" DATETIME,
    "end_reason" TEXT,
    "user_messages" INTEGER NOT NULL DEFAULT 0,
    "assistant_messages" INTEGER NOT NULL DEFAULT 0,
    "agent_messages" INTEGER NOT NULL DEFAULT 0,
    "first_user_at" DATETIME,
    "first_response_at" DATETIME,
    "handoff_at" DATETIME,
    CONSTRAINT "conversations_thread_id_fkey" FOREIGN KEY ("thread_id") REFERENCES "threads" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "webhook_endpoints" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "url" TEXT NOT NULL,
    "events" TEXT NOT NULL DEFAULT '*',
    "client_id" INTEGER,
    "include_content" BOOLEAN NOT NULL DEFAULT false,
    "allow_http" BOOLEAN NOT NULL DEFAULT false,
    "secret" TEXT NOT NULL,
    "previous_secret" TEXT,
    "previous_secret_until" DATETIME,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "failing_since" DATETIME,
    "disabled_at" DATETIME,
    "disabled_reason" TEXT
);

-- CreateTable
CREATE TABLE "events" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "uid" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "client_id" INTEGER,
    "thread_id" INTEGER,
    "ordering_key" TEXT NOT NULL,
    "payload" TEXT,
    "occurred_at" DATETIME NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "event_id" INTEGER NOT NULL,
    "endpoint_id" INTEGER NOT NULL,
    "ordering_key" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lease_owner" TEXT,
    "lease_until" DATETIME,
    "last_status" INTEGER,
    "last_error" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" DATETIME,
    CONSTRAINT "webhook_deliveries_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "events" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "webhook_deliveries_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "webhook_attempts" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "delivery_id" INTEGER NOT NULL,
    "attempted_at" DATETIME NOT NULL,
    "http_status" INTEGER,
    "error" TEXT,
    "latency_ms" INTEGER NOT NULL,
    "response" TEXT,
    CONSTRAINT "webhook_attempts_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "webhook_deliveries" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_clients" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "phone_number" TEXT NOT NULL,
    "phone_number_id" TEXT NOT NULL,
    "waba_id" TEXT,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "assistant_enabled" BOOLEAN NOT NULL DEFAULT false,
    "assistant_model" TEXT,
    "system_prompt" TEXT,
    "conversation_idle_seconds" INTEGER,
    "quote_replies" TEXT NOT NULL DEFAULT 'auto',
    "handoff" TEXT NOT NULL DEFAULT 'until-end',
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO "new_clients" ("active", "assistant_enabled", "assistant_model", "created_at", "id", "name", "phone_number", "phone_number_id", "system_prompt", "updated_at", "waba_id") SELECT "active", "assistant_enabled", "assistant_model", "created_at", "id", "name", "phone_number", "phone_number_id", "system_prompt", "updated_at", "waba_id" FROM "clients";
DROP TABLE "clients";
ALTER TABLE "new_clients" RENAME TO "clients";
CREATE UNIQUE INDEX "clients_phone_number_id_key" ON "clients"("phone_number_id");
CREATE INDEX "clients_active_id_idx" ON "clients"("active", "id");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "conversations_thread_id_started_at_idx" ON "conversations"("thread_id", "started_at");

-- CreateIndex
CREATE INDEX "conversations_client_id_started_at_idx" ON "conversations"("client_id", "started_at");

-- CreateIndex
CREATE UNIQUE INDEX "events_uid_key" ON "events"("uid");

-- CreateIndex
CREATE INDEX "webhook_deliveries_event_id_idx" ON "webhook_deliveries"("event_id");

-- CreateIndex
CREATE INDEX "webhook_attempts_delivery_id_idx" ON "webhook_attempts"("delivery_id");


-- Written by hand (Prisma's schema cannot express these).
-- The idle sweep reads open conversations only (keyed on what a new message does not change, so
-- storing one does not move the entry); the delivery worker, due deliveries only.
CREATE INDEX "conversations_open_idx" ON "conversations"("client_id") WHERE "ended_at" IS NULL;
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries"("next_attempt_at") WHERE "state" = 'pending';
-- What each thread still has to send to each endpoint (a delivery waits behind an earlier one).
CREATE INDEX "webhook_deliveries_unfinished_idx" ON "webhook_deliveries"("endpoint_id", "ordering_key", "event_id")
  WHERE "state" IN ('waiting', 'pending', 'delivering');
-- Claims being held (their lease runs out if their daemon dies).
CREATE INDEX "webhook_deliveries_leased_idx" ON "webhook_deliveries"("lease_until") WHERE "state" = 'delivering';

-- Answers keep what they cover in answers_wamid; reply_to_wamid is from now on only the message
-- WhatsApp shows them quoting.
UPDATE "messages" SET "answers_wamid" = "reply_to_wamid" WHERE "role" = 'assistant';

-- The conversations of what was stored before are derived on first use, with the idle period the
-- program is configured with (see src/db/repositories/conversations.ts).
INSERT INTO "settings" ("key", "value", "updated_at") VALUES ('conversations_backfill', 'pending', CAST(strftime('%s', 'now') AS INTEGER) * 1000)
  ON CONFLICT ("key") DO NOTHING;
