-- CreateTable
CREATE TABLE "message_rollups" (
    "client_id" INTEGER NOT NULL,
    "bucket" BIGINT NOT NULL,
    "role" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "n" INTEGER NOT NULL,

    PRIMARY KEY ("client_id", "bucket", "role", "status")
);

-- Rollups follow messages in the transaction that changes them (times are epoch milliseconds).
CREATE TRIGGER "message_rollups_insert" AFTER INSERT ON "messages" BEGIN
  INSERT INTO "message_rollups" ("client_id", "bucket", "role", "status", "n")
  VALUES (NEW."client_id", NEW."created_at" / 900000, NEW."role", COALESCE(NEW."status", ''), 1)
  ON CONFLICT ("client_id", "bucket", "role", "status") DO UPDATE SET "n" = "n" + 1;
END;

CREATE TRIGGER "message_rollups_delete" AFTER DELETE ON "messages" BEGIN
  INSERT INTO "message_rollups" ("client_id", "bucket", "role", "status", "n")
  VALUES (OLD."client_id", OLD."created_at" / 900000, OLD."role", COALESCE(OLD."status", ''), -1)
  ON CONFLICT ("client_id", "bucket", "role", "status") DO UPDATE SET "n" = "n" - 1;
END;

CREATE TRIGGER "message_rollups_update" AFTER UPDATE OF "status", "role", "created_at", "client_id" ON "messages"
WHEN OLD."status" IS NOT NEW."status" OR OLD."role" IS NOT NEW."role" OR OLD."created_at" IS NOT NEW."created_at"
  OR OLD."client_id" IS NOT NEW."client_id"
BEGIN
  INSERT INTO "message_rollups" ("client_id", "bucket", "role", "status", "n")
  VALUES (OLD."client_id", OLD."created_at" / 900000, OLD."role", COALESCE(OLD."status", ''), -1)
  ON CONFLICT ("client_id", "bucket", "role", "status") DO UPDATE SET "n" = "n" - 1;
  INSERT INTO "message_rollups" ("client_id", "bucket", "role", "status", "n")
  VALUES (NEW."client_id", NEW."created_at" / 900000, NEW."role", COALESCE(NEW."status", ''), 1)
  ON CONFLICT ("client_id", "bucket", "role", "status") DO UPDATE SET "n" = "n" + 1;
END;

-- What was stored before rollups existed.
INSERT INTO "message_rollups" ("client_id", "bucket", "role", "status", "n")
SELECT "client_id", "created_at" / 900000, "role", COALESCE("status", ''), COUNT(*)
FROM "messages" GROUP BY 1, 2, 3, 4;
