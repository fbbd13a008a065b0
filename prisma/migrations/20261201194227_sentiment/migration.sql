-- AlterTable
ALTER TABLE "clients" ADD COLUMN     "language" TEXT;

-- AlterTable
ALTER TABLE "messages" ADD COLUMN     "sentiment" DOUBLE PRECISION;

-- AlterTable
ALTER TABLE "conversations" ADD COLUMN     "closing_sentiment" DOUBLE PRECISION,
ADD COLUMN     "negative_at" TIMESTAMPTZ(3),
ADD COLUMN     "opening_sentiment" DOUBLE PRECISION,
ADD COLUMN     "recent_sentiments" TEXT,
ADD COLUMN     "sentiment_count" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "sentiment_sum" DOUBLE PRECISION NOT NULL DEFAULT 0;

