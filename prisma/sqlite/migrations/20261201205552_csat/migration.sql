-- AlterTable
ALTER TABLE "messages" ADD COLUMN "csat_survey_id" INTEGER;

-- CreateTable
CREATE TABLE "csat_surveys" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "conversation_id" INTEGER NOT NULL,
    "thread_id" INTEGER NOT NULL,
    "client_id" INTEGER NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "reason" TEXT,
    "scale" INTEGER NOT NULL,
    "via" TEXT,
    "wamid" TEXT,
    "lease_until" DATETIME,
    "created_at" DATETIME NOT NULL,
    "sent_at" DATETIME,
    "score" INTEGER,
    "answered_at" DATETIME,
    "comment_state" TEXT,
    "comment" TEXT,
    "comment_at" DATETIME,
    CONSTRAINT "csat_surveys_conversation_id_fkey" FOREIGN KEY ("conversation_id") REFERENCES "conversations" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "csat_answers" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "survey_id" INTEGER NOT NULL,
    "score" INTEGER NOT NULL,
    "form" TEXT NOT NULL,
    "wamid" TEXT,
    "answered_at" DATETIME NOT NULL,
    CONSTRAINT "csat_answers_survey_id_fkey" FOREIGN KEY ("survey_id") REFERENCES "csat_surveys" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- AlterTable (written by hand: columns added in place instead of copying the table)
ALTER TABLE "clients" ADD COLUMN "csat_enabled" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "clients" ADD COLUMN "csat_scale" INTEGER NOT NULL DEFAULT 5;
ALTER TABLE "clients" ADD COLUMN "csat_question" TEXT;
ALTER TABLE "clients" ADD COLUMN "csat_template" TEXT;
ALTER TABLE "clients" ADD COLUMN "csat_comment" BOOLEAN NOT NULL DEFAULT false;

-- CreateIndex
CREATE UNIQUE INDEX "csat_surveys_conversation_id_key" ON "csat_surveys"("conversation_id");

-- CreateIndex
CREATE INDEX "csat_surveys_thread_id_sent_at_idx" ON "csat_surveys"("thread_id", "sent_at");

-- CreateIndex
CREATE INDEX "csat_surveys_client_id_created_at_idx" ON "csat_surveys"("client_id", "created_at");

-- CreateIndex
CREATE INDEX "csat_surveys_state_idx" ON "csat_surveys"("state");

-- CreateIndex
CREATE INDEX "csat_answers_survey_id_idx" ON "csat_answers"("survey_id");

