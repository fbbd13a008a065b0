-- AlterTable
ALTER TABLE "clients" ADD COLUMN     "conversation_idle_seconds" INTEGER,
ADD COLUMN     "handoff" TEXT NOT NULL DEFAULT 'until-end',
ADD COLUMN     "quote_replies" TEXT NOT NULL DEFAULT 'auto';

-- AlterTable
ALTER TABLE "messages" ADD COLUMN     "answers_wamid" TEXT;

-- CreateTable
CREATE TABLE "conversations" (
    "id" SERIAL NOT NULL,
    "thread_id" INTEGER NOT NULL,
    "client_id" INTEGER NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "last_message_at" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3),
    "end_reason" TEXT,
    "user_messages" INTEGER NOT NULL DEFAULT 0,
    "assistant_messages" INTEGER NOT NULL DEFAULT 0,
    "agent_messages" INTEGER NOT NULL DEFAULT 0,
    "first_user_at" TIMESTAMPTZ(3),
    "first_response_at" TIMESTAMPTZ(3),
    "handoff_at" TIMESTAMPTZ(3),

    CONSTRAINT "conversations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_endpoints" (
    "id" SERIAL NOT NULL,
    "url" TEXT NOT NULL,
    "events" TEXT NOT NULL DEFAULT '*',
    "client_id" INTEGER,
    "include_content" BOOLEAN NOT NULL DEFAULT false,
    "allow_http" BOOLEAN NOT NULL DEFAULT false,
    "secret" TEXT NOT NULL,
    "previous_secret" TEXT,
    "previous_secret_until" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "failing_since" TIMESTAMPTZ(3),
    "disabled_at" TIMESTAMPTZ(3),
    "disabled_reason" TEXT,

    CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "events" (
    "id" SERIAL NOT NULL,
    "uid" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "client_id" INTEGER,
    "thread_id" INTEGER,
    "ordering_key" TEXT NOT NULL,
    "payload" TEXT,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" SERIAL NOT NULL,
    "event_id" INTEGER NOT NULL,
    "endpoint_id" INTEGER NOT NULL,
    "ordering_key" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lease_owner" TEXT,
    "lease_until" TIMESTAMPTZ(3),
    "last_status" INTEGER,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMPTZ(3),

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_attempts" (
    "id" SERIAL NOT NULL,
    "delivery_id" INTEGER NOT NULL,
    "attempted_at" TIMESTAMPTZ(3) NOT NULL,
    "http_status" INTEGER,
    "error" TEXT,
    "latency_ms" INTEGER NOT NULL,
    "response" TEXT,

    CONSTRAINT "webhook_attempts_pkey" PRIMARY KEY ("id")
);

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


-- AddForeignKey
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_thread_id_fkey" FOREIGN KEY ("thread_id") REFERENCES "threads"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_attempts" ADD CONSTRAINT "webhook_attempts_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "webhook_deliveries"("id") ON DELETE CASCADE ON UPDATE CASCADE;

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
INSERT INTO "settings" ("key", "value", "updated_at") VALUES ('conversations_backfill', 'pending', now())
  ON CONFLICT ("key") DO NOTHING;
