-- AlterEnum
ALTER TYPE "TokenPurpose" ADD VALUE 'EMAIL_CHANGE';

-- AlterTable
ALTER TABLE "library" ADD COLUMN     "closed_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "staff_account" ADD COLUMN     "last_login_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "patron" ADD COLUMN     "pending_email" TEXT;

-- AlterTable
ALTER TABLE "email_outbox" ADD COLUMN     "forget" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "resource_provider" ADD COLUMN     "last_used_at" TIMESTAMPTZ(3),
ADD COLUMN     "previous_key_expires_at" TIMESTAMPTZ(3),
ADD COLUMN     "previous_key_hash" TEXT;

-- CreateTable
CREATE TABLE "response_template" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "decision" "Decision" NOT NULL,
    "library_id" UUID,
    "body" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_by_id" UUID,

    CONSTRAINT "response_template_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
-- Hand-written: NULLS NOT DISTINCT, so that the département-wide default (library null) is one row too.
CREATE UNIQUE INDEX "response_template_decision_library_id_key" ON "response_template"("decision", "library_id") NULLS NOT DISTINCT;

-- Hand-written (Prisma cannot express collations): names sort as a French reader expects
-- ("Åberg", "Élise" among the A and E, not after Z), in the staff's lists and their indexes.
ALTER TABLE "patron" ALTER COLUMN "last_name" TYPE TEXT COLLATE "fr-x-icu";

-- CreateIndex
CREATE INDEX "patron_last_name_id_idx" ON "patron"("last_name", "id");

-- CreateIndex
CREATE INDEX "patron_library_id_last_name_id_idx" ON "patron"("library_id", "last_name", "id");

-- CreateIndex
CREATE INDEX "patron_registered_at_id_idx" ON "patron"("registered_at", "id");

-- CreateIndex
CREATE INDEX "patron_active_until_id_idx" ON "patron"("active_until", "id");

-- CreateIndex
CREATE UNIQUE INDEX "resource_provider_previous_key_hash_key" ON "resource_provider"("previous_key_hash");

-- CreateIndex
CREATE INDEX "audit_log_library_id_occurred_at_idx" ON "audit_log"("library_id", "occurred_at");

-- AddForeignKey
ALTER TABLE "response_template" ADD CONSTRAINT "response_template_library_id_fkey" FOREIGN KEY ("library_id") REFERENCES "library"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Hand-written: audit actions take the contract's names (api-admin.graphql: DECIDE,
-- CREATE_STAFF_ACCOUNT, SET_QUOTA_LIMITS…). The log is append-only; this rename is the one
-- exception, made while its trigger is off inside this migration's transaction.
ALTER TABLE "audit_log" DISABLE TRIGGER "audit_log_append_only";
UPDATE "audit_log" SET "action" = CASE "action"
  WHEN 'registration.decide' THEN 'DECIDE'
  WHEN 'staff.create' THEN 'CREATE_STAFF_ACCOUNT'
  WHEN 'provider.create' THEN 'CREATE_RESOURCE_PROVIDER'
  WHEN 'quota.limits' THEN 'SET_QUOTA_LIMITS'
  WHEN 'licence.capacity' THEN 'SET_LICENCE_CAPACITY'
  ELSE "action" END;
ALTER TABLE "audit_log" ENABLE TRIGGER "audit_log_append_only";
CREATE INDEX "audit_log_actor_id_occurred_at_idx" ON "audit_log"("actor_id", "occurred_at");
