-- CreateTable
CREATE TABLE "clients" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "phone_number" TEXT NOT NULL,
    "phone_number_id" TEXT NOT NULL,
    "waba_id" TEXT,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "assistant_enabled" BOOLEAN NOT NULL DEFAULT false,
    "assistant_model" TEXT,
    "system_prompt" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "clients_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "threads" (
    "id" SERIAL NOT NULL,
    "client_id" INTEGER NOT NULL,
    "wa_id" TEXT NOT NULL,
    "contact_name" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_message_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "context_reset_at" TIMESTAMPTZ(3),

    CONSTRAINT "threads_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "messages" (
    "id" SERIAL NOT NULL,
    "thread_id" INTEGER NOT NULL,
    "client_id" INTEGER NOT NULL,
    "role" TEXT NOT NULL,
    "type" TEXT NOT NULL DEFAULT 'text',
    "content" TEXT NOT NULL,
    "wamid" TEXT,
    "wa_id" TEXT NOT NULL,
    "phone_number_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "status" TEXT,
    "status_at" TIMESTAMPTZ(3),
    "error_code" INTEGER,
    "error_message" TEXT,
    "reply_to_wamid" TEXT,
    "raw" TEXT,
    "inserted_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "messages_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "message_status_events" (
    "id" SERIAL NOT NULL,
    "wamid" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "recipient_id" TEXT,
    "error_code" INTEGER,
    "error_title" TEXT,
    "error_details" TEXT,
    "raw" TEXT,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "message_status_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "raw_events" (
    "id" SERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "content_hash" TEXT NOT NULL,
    "phone_number_id" TEXT,
    "wa_id" TEXT,
    "payload" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "raw_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "clients_phone_number_id_key" ON "clients"("phone_number_id");

-- CreateIndex
CREATE INDEX "clients_active_id_idx" ON "clients"("active", "id");

-- CreateIndex
CREATE INDEX "threads_client_id_last_message_at_idx" ON "threads"("client_id", "last_message_at");

-- CreateIndex
CREATE INDEX "threads_last_message_at_idx" ON "threads"("last_message_at");

-- CreateIndex
CREATE INDEX "threads_wa_id_idx" ON "threads"("wa_id");

-- CreateIndex
CREATE UNIQUE INDEX "threads_client_id_wa_id_key" ON "threads"("client_id", "wa_id");

-- CreateIndex
CREATE UNIQUE INDEX "messages_wamid_key" ON "messages"("wamid");

-- CreateIndex
CREATE INDEX "messages_thread_id_created_at_id_idx" ON "messages"("thread_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "messages_client_id_created_at_idx" ON "messages"("client_id", "created_at");

-- CreateIndex
CREATE INDEX "messages_wa_id_idx" ON "messages"("wa_id");

-- CreateIndex
CREATE INDEX "messages_created_at_idx" ON "messages"("created_at");

-- CreateIndex
CREATE INDEX "messages_status_created_at_idx" ON "messages"("status", "created_at");

-- CreateIndex
CREATE INDEX "message_status_events_recipient_id_idx" ON "message_status_events"("recipient_id");

-- CreateIndex
CREATE UNIQUE INDEX "message_status_events_wamid_status_occurred_at_key" ON "message_status_events"("wamid", "status", "occurred_at");

-- CreateIndex
CREATE UNIQUE INDEX "raw_events_content_hash_key" ON "raw_events"("content_hash");

-- CreateIndex
CREATE INDEX "raw_events_received_at_idx" ON "raw_events"("received_at");

-- CreateIndex
CREATE INDEX "raw_events_wa_id_idx" ON "raw_events"("wa_id");

-- AddForeignKey
ALTER TABLE "threads" ADD CONSTRAINT "threads_client_id_fkey" FOREIGN KEY ("client_id") REFERENCES "clients"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "messages" ADD CONSTRAINT "messages_thread_id_fkey" FOREIGN KEY ("thread_id") REFERENCES "threads"("id") ON DELETE CASCADE ON UPDATE CASCADE;

