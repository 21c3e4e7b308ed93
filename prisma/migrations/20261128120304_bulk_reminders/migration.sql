-- AlterTable
ALTER TABLE "email_outbox" ADD COLUMN     "batch_id" UUID,
ADD COLUMN     "values" JSONB,
ALTER COLUMN "html" DROP NOT NULL,
ALTER COLUMN "text" DROP NOT NULL;

-- CreateTable
CREATE TABLE "renewal_reminder" (
    "patron_id" UUID NOT NULL,
    "active_until" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "renewal_reminder_pkey" PRIMARY KEY ("patron_id","active_until")
);

-- CreateTable
CREATE TABLE "email_batch" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "html" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "email_batch_pkey" PRIMARY KEY ("id")
);


-- Hand-written: the reminders already sent move to their table before the column goes, so that
-- nobody is reminded twice of the same end of access.
INSERT INTO "renewal_reminder" ("patron_id", "active_until", "created_at")
SELECT "id", "reminder_sent_for", now() FROM "patron" WHERE "reminder_sent_for" IS NOT NULL;

-- AlterTable
ALTER TABLE "patron" DROP COLUMN "reminder_sent_for";
