-- CreateTable
CREATE TABLE "conversation_ratings" (
    "conversation_id" INTEGER NOT NULL PRIMARY KEY,
    "state" TEXT NOT NULL DEFAULT 'rating',
    "lease_until" DATETIME,
    "transcript_hash" TEXT,
    "source" TEXT,
    "label" TEXT,
    "score" REAL,
    "predicted_csat" INTEGER,
    "reason" TEXT,
    "model" TEXT,
    "error" TEXT,
    "rated_at" DATETIME,
    CONSTRAINT "conversation_ratings_conversation_id_fkey" FOREIGN KEY ("conversation_id") REFERENCES "conversations" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "conversation_ratings_transcript_hash_idx" ON "conversation_ratings"("transcript_hash");

