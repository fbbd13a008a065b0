-- AlterTable
ALTER TABLE "clients" ADD COLUMN     "csat_comment" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "csat_enabled" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "csat_question" TEXT,
ADD COLUMN     "csat_scale" INTEGER NOT NULL DEFAULT 5,
ADD COLUMN     "csat_template" TEXT;

-- AlterTable
ALTER TABLE "messages" ADD COLUMN     "csat_survey_id" INTEGER;

-- CreateTable
CREATE TABLE "csat_surveys" (
    "id" SERIAL NOT NULL,
    "conversation_id" INTEGER NOT NULL,
    "thread_id" INTEGER NOT NULL,
    "client_id" INTEGER NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "reason" TEXT,
    "scale" INTEGER NOT NULL,
    "via" TEXT,
    "wamid" TEXT,
    "lease_until" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "sent_at" TIMESTAMPTZ(3),
    "score" INTEGER,
    "answered_at" TIMESTAMPTZ(3),
    "comment_state" TEXT,
    "comment" TEXT,
    "comment_at" TIMESTAMPTZ(3),

    CONSTRAINT "csat_surveys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "csat_answers" (
    "id" SERIAL NOT NULL,
    "survey_id" INTEGER NOT NULL,
    "score" INTEGER NOT NULL,
    "form" TEXT NOT NULL,
    "wamid" TEXT,
    "answered_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "csat_answers_pkey" PRIMARY KEY ("id")
);

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

-- AddForeignKey
ALTER TABLE "csat_surveys" ADD CONSTRAINT "csat_surveys_conversation_id_fkey" FOREIGN KEY ("conversation_id") REFERENCES "conversations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "csat_answers" ADD CONSTRAINT "csat_answers_survey_id_fkey" FOREIGN KEY ("survey_id") REFERENCES "csat_surveys"("id") ON DELETE CASCADE ON UPDATE CASCADE;

