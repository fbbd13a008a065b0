-- CreateTable
CREATE TABLE "conversation_ratings" (
    "conversation_id" INTEGER NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'rating',
    "lease_until" TIMESTAMPTZ(3),
    "transcript_hash" TEXT,
    "source" TEXT,
    "label" TEXT,
    "score" DOUBLE PRECISION,
    "predicted_csat" INTEGER,
    "reason" TEXT,
    "model" TEXT,
    "error" TEXT,
    "rated_at" TIMESTAMPTZ(3),

    CONSTRAINT "conversation_ratings_pkey" PRIMARY KEY ("conversation_id")
);

-- CreateIndex
CREATE INDEX "conversation_ratings_transcript_hash_idx" ON "conversation_ratings"("transcript_hash");

-- AddForeignKey
ALTER TABLE "conversation_ratings" ADD CONSTRAINT "conversation_ratings_conversation_id_fkey" FOREIGN KEY ("conversation_id") REFERENCES "conversations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

