-- AlterTable
ALTER TABLE "clients" ADD COLUMN "language" TEXT;

-- AlterTable
ALTER TABLE "messages" ADD COLUMN "sentiment" REAL;

-- AlterTable (written by hand: columns added in place, so the partial index of open conversations
-- that Prisma's schema cannot express is kept, and nothing is copied)
ALTER TABLE "conversations" ADD COLUMN "sentiment_count" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "conversations" ADD COLUMN "sentiment_sum" REAL NOT NULL DEFAULT 0;
ALTER TABLE "conversations" ADD COLUMN "opening_sentiment" REAL;
ALTER TABLE "conversations" ADD COLUMN "closing_sentiment" REAL;
ALTER TABLE "conversations" ADD COLUMN "recent_sentiments" TEXT;
ALTER TABLE "conversations" ADD COLUMN "negative_at" DATETIME;
