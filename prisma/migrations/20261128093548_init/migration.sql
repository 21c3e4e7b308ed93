-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "pg_trgm";

-- CreateEnum
CREATE TYPE "StaffRole" AS ENUM ('LIBRARY_ADMIN', 'DLPB_AGENT');

-- CreateEnum
CREATE TYPE "AccountStatus" AS ENUM ('UNCONFIRMED', 'TEMPORARY', 'ACTIVE', 'REFUSED', 'EXPIRED');

-- CreateEnum
CREATE TYPE "AgeGroup" AS ENUM ('CHILD', 'TEEN', 'ADULT');

-- CreateEnum
CREATE TYPE "RegistrationKind" AS ENUM ('REGISTRATION', 'RENEWAL');

-- CreateEnum
CREATE TYPE "RegistrationState" AS ENUM ('AWAITING_CONFIRMATION', 'AWAITING_DECISION', 'ACCEPTED', 'REFUSED', 'LAPSED');

-- CreateEnum
CREATE TYPE "Decision" AS ENUM ('ACCEPT', 'REFUSE');

-- CreateEnum
CREATE TYPE "TokenPurpose" AS ENUM ('CONFIRMATION', 'PASSWORD_RESET', 'RENEWAL');

-- CreateEnum
CREATE TYPE "ContentCategory" AS ENUM ('UNLIMITED', 'FILM', 'BOOK', 'MAGAZINE', 'NEWSPAPER');

-- CreateEnum
CREATE TYPE "EmailStatus" AS ENUM ('PENDING', 'SENT', 'FAILED', 'LOCAL');

-- CreateEnum
CREATE TYPE "MessageRecipient" AS ENUM ('LIBRARY', 'SUPPORT');

-- CreateTable
CREATE TABLE "library" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "code" VARCHAR(7) NOT NULL,
    "name" TEXT NOT NULL,
    "town" TEXT,
    "postal_code" VARCHAR(5),
    "email" TEXT NOT NULL,
    "placeholder" BOOLEAN NOT NULL DEFAULT false,
    "search_text" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "library_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "staff_account" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "login" TEXT NOT NULL,
    "display_name" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "role" "StaffRole" NOT NULL,
    "library_id" UUID,
    "password_hash" TEXT,
    "disabled_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "staff_account_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "patron" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "library_id" UUID NOT NULL,
    "last_name" TEXT NOT NULL,
    "first_name" TEXT NOT NULL,
    "birth_date" DATE NOT NULL,
    "email" TEXT NOT NULL,
    "login" TEXT NOT NULL,
    "login_key" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "newsletter" BOOLEAN NOT NULL,
    "identity_key" TEXT NOT NULL,
    "search_text" TEXT NOT NULL,
    "status" "AccountStatus" NOT NULL DEFAULT 'UNCONFIRMED',
    "status_changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "confirmed_at" TIMESTAMPTZ(3),
    "temporary_until" TIMESTAMPTZ(3),
    "active_until" TIMESTAMPTZ(3),
    "reminder_sent_for" TIMESTAMPTZ(3),
    "registered_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "patron_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "registration_request" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "kind" "RegistrationKind" NOT NULL,
    "state" "RegistrationState" NOT NULL,
    "patron_id" UUID,
    "library_id" UUID NOT NULL,
    "age_group" "AgeGroup" NOT NULL,
    "submitted_at" TIMESTAMPTZ(3) NOT NULL,
    "confirmation_due_at" TIMESTAMPTZ(3),
    "confirmed_at" TIMESTAMPTZ(3),
    "decision_due_at" TIMESTAMPTZ(3),
    "escalated" BOOLEAN NOT NULL DEFAULT false,
    "escalated_at" TIMESTAMPTZ(3),
    "decision" "Decision",
    "decided_at" TIMESTAMPTZ(3),
    "decided_by_id" UUID,
    "decided_on_behalf_of_library" BOOLEAN NOT NULL DEFAULT false,
    "response_message" TEXT,
    "lapsed_at" TIMESTAMPTZ(3),

    CONSTRAINT "registration_request_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "one_time_token" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "purpose" "TokenPurpose" NOT NULL,
    "token_hash" TEXT NOT NULL,
    "patron_id" UUID,
    "staff_id" UUID,
    "request_id" UUID,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),
    "replaced_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "one_time_token_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "session" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "token_hash" TEXT NOT NULL,
    "patron_id" UUID,
    "staff_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "quota_policy" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "effective_from" CHAR(7) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "created_by_id" UUID,

    CONSTRAINT "quota_policy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "quota_limit" (
    "policy_id" UUID NOT NULL,
    "category" "ContentCategory" NOT NULL,
    "limit" INTEGER NOT NULL,

    CONSTRAINT "quota_limit_pkey" PRIMARY KEY ("policy_id","category")
);

-- CreateTable
CREATE TABLE "quota_usage" (
    "patron_id" UUID NOT NULL,
    "period" CHAR(7) NOT NULL,
    "category" "ContentCategory" NOT NULL,
    "used" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "quota_usage_pkey" PRIMARY KEY ("patron_id","period","category")
);

-- CreateTable
CREATE TABLE "consumption" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "provider_id" UUID NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "patron_id" UUID,
    "library_id" UUID,
    "age_group" "AgeGroup",
    "category" "ContentCategory" NOT NULL,
    "resource_id" TEXT NOT NULL,
    "minimum_age" INTEGER,
    "period" CHAR(7) NOT NULL,
    "granted" BOOLEAN NOT NULL,
    "error_code" TEXT,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "cancelled_at" TIMESTAMPTZ(3),

    CONSTRAINT "consumption_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "consumption_monthly" (
    "period" CHAR(7) NOT NULL,
    "library_id" UUID NOT NULL,
    "age_group" "AgeGroup" NOT NULL,
    "category" "ContentCategory" NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "consumption_monthly_pkey" PRIMARY KEY ("period","library_id","age_group","category")
);

-- CreateTable
CREATE TABLE "saturation_monthly" (
    "period" CHAR(7) NOT NULL,
    "library_id" UUID NOT NULL,
    "category" "ContentCategory" NOT NULL,
    "active_patrons" INTEGER NOT NULL,
    "saturated_patrons" INTEGER NOT NULL,

    CONSTRAINT "saturation_monthly_pkey" PRIMARY KEY ("period","library_id","category")
);

-- CreateTable
CREATE TABLE "resource_provider" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "api_key_hash" TEXT NOT NULL,
    "api_key_prefix" TEXT NOT NULL,
    "categories" "ContentCategory"[],
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "resource_provider_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "licence_pool" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "capacity" INTEGER NOT NULL,
    "alert_level" INTEGER NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "licence_pool_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "email_outbox" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "idempotency_key" TEXT NOT NULL,
    "template" TEXT NOT NULL,
    "from_address" TEXT NOT NULL,
    "to_addresses" TEXT[],
    "cc_addresses" TEXT[],
    "reply_to" TEXT,
    "subject" TEXT NOT NULL,
    "html" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "secrets" TEXT[],
    "status" "EmailStatus" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "provider_message_id" TEXT,
    "patron_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "sent_at" TIMESTAMPTZ(3),

    CONSTRAINT "email_outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_log" (
    "id" BIGSERIAL NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "actor_kind" TEXT NOT NULL,
    "actor_id" UUID,
    "action" TEXT NOT NULL,
    "library_id" UUID,
    "subject_type" TEXT NOT NULL,
    "subject_id" TEXT,
    "on_behalf" BOOLEAN NOT NULL DEFAULT false,
    "before" JSONB,
    "after" JSONB,

    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "message" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "recipient" "MessageRecipient" NOT NULL,
    "library_id" UUID,
    "patron_id" UUID,
    "sender_email" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "message_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rate_limit" (
    "key" VARCHAR(255) NOT NULL,
    "points" INTEGER NOT NULL DEFAULT 0,
    "expire" BIGINT,

    CONSTRAINT "rate_limit_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "setting" (
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "setting_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE UNIQUE INDEX "library_code_key" ON "library"("code");

-- CreateIndex
CREATE INDEX "library_search_trgm" ON "library" USING GIN ("search_text" gin_trgm_ops);

-- CreateIndex
CREATE UNIQUE INDEX "staff_account_login_key" ON "staff_account"("login");

-- CreateIndex
CREATE INDEX "staff_account_library_id_idx" ON "staff_account"("library_id");

-- CreateIndex
CREATE INDEX "staff_account_role_idx" ON "staff_account"("role");

-- CreateIndex
CREATE UNIQUE INDEX "patron_login_key_key" ON "patron"("login_key");

-- CreateIndex
CREATE INDEX "patron_identity_key_idx" ON "patron"("identity_key");

-- CreateIndex
CREATE INDEX "patron_email_idx" ON "patron"("email");

-- CreateIndex
CREATE INDEX "patron_library_id_status_idx" ON "patron"("library_id", "status");

-- CreateIndex
CREATE INDEX "patron_status_temporary_until_idx" ON "patron"("status", "temporary_until");

-- CreateIndex
CREATE INDEX "patron_status_active_until_idx" ON "patron"("status", "active_until");

-- CreateIndex
CREATE INDEX "patron_status_status_changed_at_idx" ON "patron"("status", "status_changed_at");

-- CreateIndex
CREATE INDEX "patron_search_trgm" ON "patron" USING GIN ("search_text" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "registration_request_library_id_state_submitted_at_idx" ON "registration_request"("library_id", "state", "submitted_at");

-- CreateIndex
CREATE INDEX "registration_request_state_submitted_at_idx" ON "registration_request"("state", "submitted_at");

-- CreateIndex
CREATE INDEX "registration_request_state_decision_due_at_idx" ON "registration_request"("state", "decision_due_at");

-- CreateIndex
CREATE INDEX "registration_request_state_confirmation_due_at_idx" ON "registration_request"("state", "confirmation_due_at");

-- CreateIndex
CREATE INDEX "registration_request_patron_id_idx" ON "registration_request"("patron_id");

-- CreateIndex
CREATE INDEX "registration_request_submitted_at_idx" ON "registration_request"("submitted_at");

-- CreateIndex
CREATE UNIQUE INDEX "one_time_token_token_hash_key" ON "one_time_token"("token_hash");

-- CreateIndex
CREATE INDEX "one_time_token_patron_id_purpose_idx" ON "one_time_token"("patron_id", "purpose");

-- CreateIndex
CREATE INDEX "one_time_token_staff_id_purpose_idx" ON "one_time_token"("staff_id", "purpose");

-- CreateIndex
CREATE INDEX "one_time_token_expires_at_idx" ON "one_time_token"("expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "session_token_hash_key" ON "session"("token_hash");

-- CreateIndex
CREATE INDEX "session_patron_id_idx" ON "session"("patron_id");

-- CreateIndex
CREATE INDEX "session_staff_id_idx" ON "session"("staff_id");

-- CreateIndex
CREATE INDEX "session_expires_at_idx" ON "session"("expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "quota_policy_effective_from_key" ON "quota_policy"("effective_from");

-- CreateIndex
CREATE INDEX "quota_usage_period_category_idx" ON "quota_usage"("period", "category");

-- CreateIndex
CREATE INDEX "consumption_occurred_at_idx" ON "consumption"("occurred_at");

-- CreateIndex
CREATE INDEX "consumption_patron_id_period_idx" ON "consumption"("patron_id", "period");

-- CreateIndex
CREATE INDEX "consumption_period_library_id_category_idx" ON "consumption"("period", "library_id", "category");

-- CreateIndex
CREATE UNIQUE INDEX "consumption_provider_id_idempotency_key_key" ON "consumption"("provider_id", "idempotency_key");

-- CreateIndex
CREATE UNIQUE INDEX "resource_provider_api_key_hash_key" ON "resource_provider"("api_key_hash");

-- CreateIndex
CREATE UNIQUE INDEX "email_outbox_idempotency_key_key" ON "email_outbox"("idempotency_key");

-- CreateIndex
CREATE INDEX "email_outbox_status_created_at_idx" ON "email_outbox"("status", "created_at");

-- CreateIndex
CREATE INDEX "email_outbox_patron_id_idx" ON "email_outbox"("patron_id");

-- CreateIndex
CREATE INDEX "audit_log_subject_type_subject_id_idx" ON "audit_log"("subject_type", "subject_id");

-- CreateIndex
CREATE INDEX "audit_log_occurred_at_idx" ON "audit_log"("occurred_at");

-- CreateIndex
CREATE INDEX "message_library_id_created_at_idx" ON "message"("library_id", "created_at");

-- CreateIndex
CREATE INDEX "message_patron_id_idx" ON "message"("patron_id");

-- CreateIndex
CREATE INDEX "message_sender_email_idx" ON "message"("sender_email");

-- AddForeignKey
ALTER TABLE "staff_account" ADD CONSTRAINT "staff_account_library_id_fkey" FOREIGN KEY ("library_id") REFERENCES "library"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "patron" ADD CONSTRAINT "patron_library_id_fkey" FOREIGN KEY ("library_id") REFERENCES "library"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "registration_request" ADD CONSTRAINT "registration_request_patron_id_fkey" FOREIGN KEY ("patron_id") REFERENCES "patron"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "registration_request" ADD CONSTRAINT "registration_request_library_id_fkey" FOREIGN KEY ("library_id") REFERENCES "library"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "registration_request" ADD CONSTRAINT "registration_request_decided_by_id_fkey" FOREIGN KEY ("decided_by_id") REFERENCES "staff_account"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "one_time_token" ADD CONSTRAINT "one_time_token_patron_id_fkey" FOREIGN KEY ("patron_id") REFERENCES "patron"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "one_time_token" ADD CONSTRAINT "one_time_token_staff_id_fkey" FOREIGN KEY ("staff_id") REFERENCES "staff_account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "one_time_token" ADD CONSTRAINT "one_time_token_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "registration_request"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "session" ADD CONSTRAINT "session_patron_id_fkey" FOREIGN KEY ("patron_id") REFERENCES "patron"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "session" ADD CONSTRAINT "session_staff_id_fkey" FOREIGN KEY ("staff_id") REFERENCES "staff_account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "quota_limit" ADD CONSTRAINT "quota_limit_policy_id_fkey" FOREIGN KEY ("policy_id") REFERENCES "quota_policy"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "quota_usage" ADD CONSTRAINT "quota_usage_patron_id_fkey" FOREIGN KEY ("patron_id") REFERENCES "patron"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "consumption" ADD CONSTRAINT "consumption_provider_id_fkey" FOREIGN KEY ("provider_id") REFERENCES "resource_provider"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "consumption" ADD CONSTRAINT "consumption_patron_id_fkey" FOREIGN KEY ("patron_id") REFERENCES "patron"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "consumption" ADD CONSTRAINT "consumption_library_id_fkey" FOREIGN KEY ("library_id") REFERENCES "library"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "email_outbox" ADD CONSTRAINT "email_outbox_patron_id_fkey" FOREIGN KEY ("patron_id") REFERENCES "patron"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "message" ADD CONSTRAINT "message_library_id_fkey" FOREIGN KEY ("library_id") REFERENCES "library"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "message" ADD CONSTRAINT "message_patron_id_fkey" FOREIGN KEY ("patron_id") REFERENCES "patron"("id") ON DELETE CASCADE ON UPDATE CASCADE;



-- Hand-written (Prisma cannot express triggers): the audit log is append-only.
CREATE FUNCTION "audit_log_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log est en ajout seul : % refusé', TG_OP;
END;
$$;

CREATE TRIGGER "audit_log_append_only"
  BEFORE UPDATE OR DELETE ON "audit_log"
  FOR EACH ROW EXECUTE FUNCTION "audit_log_append_only"();
