-- CreateTable
CREATE TABLE "pending_replies" (
    "thread_id" INTEGER NOT NULL,
    "seq" INTEGER NOT NULL DEFAULT 1,
    "claimed_seq" INTEGER,
    "lease_owner" TEXT,
    "lease_until" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "pending_replies_pkey" PRIMARY KEY ("thread_id")
);

-- CreateTable
CREATE TABLE "daemon_roles" (
    "role" TEXT NOT NULL,
    "owner" TEXT NOT NULL,
    "lease_until" TIMESTAMPTZ(3) NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "daemon_roles_pkey" PRIMARY KEY ("role")
);

-- CreateIndex
CREATE INDEX "pending_replies_lease_until_idx" ON "pending_replies"("lease_until");

-- AddForeignKey
ALTER TABLE "pending_replies" ADD CONSTRAINT "pending_replies_thread_id_fkey" FOREIGN KEY ("thread_id") REFERENCES "threads"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Answers a stopped daemon left 'sending': their conversations are claimed by nobody alive, so the
-- first daemon to claim one marks them failed (never sent again).
INSERT INTO "pending_replies" ("thread_id", "lease_owner", "lease_until")
SELECT DISTINCT "thread_id", 'before-upgrade', TIMESTAMPTZ '1970-01-01 00:00:00+00'
FROM "messages" WHERE "role" = 'assistant' AND "status" = 'sending';
