-- CreateTable
CREATE TABLE "message_rollups" (
    "client_id" INTEGER NOT NULL,
    "bucket" BIGINT NOT NULL,
    "role" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "n" INTEGER NOT NULL,

    CONSTRAINT "message_rollups_pkey" PRIMARY KEY ("client_id","bucket","role","status")
);

-- Rollups follow messages in the transaction that changes them. Statement-level triggers with
-- transition tables: one upsert per statement (a group commit inserts hundreds of rows in one),
-- keys in one order so concurrent daemons lock rollup rows in the same order.
CREATE FUNCTION "message_rollups_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "message_rollups" ("client_id", "bucket", "role", "status", "n")
  SELECT "client_id", floor(extract(epoch FROM "created_at") / 900)::bigint, "role", COALESCE("status", ''), COUNT(*)
  FROM new_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT ("client_id", "bucket", "role", "status") DO UPDATE SET "n" = "message_rollups"."n" + EXCLUDED."n";
  RETURN NULL;
END $$;

CREATE FUNCTION "message_rollups_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "message_rollups" ("client_id", "bucket", "role", "status", "n")
  SELECT "client_id", floor(extract(epoch FROM "created_at") / 900)::bigint, "role", COALESCE("status", ''), -COUNT(*)
  FROM old_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT ("client_id", "bucket", "role", "status") DO UPDATE SET "n" = "message_rollups"."n" + EXCLUDED."n";
  RETURN NULL;
END $$;

CREATE FUNCTION "message_rollups_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "message_rollups" ("client_id", "bucket", "role", "status", "n")
  SELECT k, b, r, s, SUM(d) FROM (
    SELECT "client_id" AS k, floor(extract(epoch FROM "created_at") / 900)::bigint AS b, "role" AS r,
           COALESCE("status", '') AS s, -1 AS d FROM old_rows
    UNION ALL
    SELECT "client_id", floor(extract(epoch FROM "created_at") / 900)::bigint, "role", COALESCE("status", ''), 1
    FROM new_rows
  ) x GROUP BY k, b, r, s HAVING SUM(d) <> 0 ORDER BY k, b, r, s
  ON CONFLICT ("client_id", "bucket", "role", "status") DO UPDATE SET "n" = "message_rollups"."n" + EXCLUDED."n";
  RETURN NULL;
END $$;

CREATE TRIGGER "message_rollups_insert" AFTER INSERT ON "messages"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "message_rollups_insert"();
CREATE TRIGGER "message_rollups_delete" AFTER DELETE ON "messages"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "message_rollups_delete"();
CREATE TRIGGER "message_rollups_update" AFTER UPDATE ON "messages"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "message_rollups_update"();

-- What was stored before rollups existed.
INSERT INTO "message_rollups" ("client_id", "bucket", "role", "status", "n")
SELECT "client_id", floor(extract(epoch FROM "created_at") / 900)::bigint, "role", COALESCE("status", ''), COUNT(*)
FROM "messages" GROUP BY 1, 2, 3, 4;
