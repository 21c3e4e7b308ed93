-- The outbox row's id becomes the Idempotency-Key sent to Resend (one unique index less on a
-- table that takes 100,000 rows in a reminder run). An e-mail still PENDING across this change is
-- sent under a new key; none had left before the change was made.
-- DropIndex
DROP INDEX "email_outbox_idempotency_key_key";

-- AlterTable
ALTER TABLE "email_outbox" DROP COLUMN "idempotency_key";
