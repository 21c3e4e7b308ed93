-- CreateEnum
CREATE TYPE "MembershipConnectorKind" AS ENUM ('KOHA_REST', 'SIP2');

-- CreateEnum
CREATE TYPE "MembershipRule" AS ENUM ('ENROLLED_OR_RENEWED_WITHIN_A_YEAR', 'NOT_EXPIRED');

-- CreateEnum
CREATE TYPE "MembershipCheckOutcome" AS ENUM ('ACTIVE', 'INACTIVE', 'NOT_FOUND', 'AMBIGUOUS', 'INCONCLUSIVE', 'UNAVAILABLE');

-- CreateEnum
CREATE TYPE "MembershipMatch" AS ENUM ('CARD_NUMBER', 'EMAIL', 'NAME_AND_BIRTH_DATE');

-- CreateEnum
CREATE TYPE "KohaAuthentication" AS ENUM ('OAUTH2', 'BASIC');

-- AlterTable
ALTER TABLE "registration_request" ADD COLUMN     "library_card_number" TEXT,
ADD COLUMN     "membership_outcome" "MembershipCheckOutcome";

-- CreateTable
CREATE TABLE "membership_connector" (
    "library_id" UUID NOT NULL,
    "kind" "MembershipConnectorKind" NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "rule" "MembershipRule" NOT NULL DEFAULT 'ENROLLED_OR_RENEWED_WITHIN_A_YEAR',
    "auto_accept" BOOLEAN NOT NULL DEFAULT false,
    "endpoint" TEXT NOT NULL,
    "tls" BOOLEAN NOT NULL DEFAULT true,
    "username" TEXT,
    "secret_sealed" TEXT,
    "koha_authentication" "KohaAuthentication" NOT NULL DEFAULT 'OAUTH2',
    "institution_id" TEXT,
    "location_code" TEXT,
    "expiry_field" VARCHAR(2),
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_by_id" UUID,
    "last_call_at" TIMESTAMPTZ(3),
    "last_call_ok" BOOLEAN,
    "last_error" TEXT,
    "consecutive_failures" INTEGER NOT NULL DEFAULT 0,
    "paused_until" TIMESTAMPTZ(3),
    "pause_announced" BOOLEAN NOT NULL DEFAULT false,
    "rate_window" TIMESTAMPTZ(3),
    "rate_calls" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "membership_connector_pkey" PRIMARY KEY ("library_id")
);

-- CreateTable
CREATE TABLE "connector_lease" (
    "library_id" UUID NOT NULL,
    "slot" INTEGER NOT NULL,
    "holder" TEXT,
    "held_until" TIMESTAMPTZ(3) NOT NULL DEFAULT '-infinity'::timestamptz,

    CONSTRAINT "connector_lease_pkey" PRIMARY KEY ("library_id","slot")
);

-- CreateTable
CREATE TABLE "membership_check" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "request_id" UUID NOT NULL,
    "library_id" UUID NOT NULL,
    "event_key" TEXT NOT NULL,
    "outcome" "MembershipCheckOutcome" NOT NULL,
    "connector" "MembershipConnectorKind" NOT NULL,
    "checked_at" TIMESTAMPTZ(3) NOT NULL,
    "matched_by" "MembershipMatch",
    "enrolled_or_renewed_on" DATE,
    "member_until" DATE,
    "birth_date_matches" BOOLEAN,
    "birth_year_matches" BOOLEAN,
    "summary" TEXT NOT NULL,

    CONSTRAINT "membership_check_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "membership_check_event_key_key" ON "membership_check"("event_key");

-- CreateIndex
CREATE INDEX "membership_check_request_id_checked_at_idx" ON "membership_check"("request_id", "checked_at");

-- CreateIndex
CREATE INDEX "membership_check_library_id_checked_at_idx" ON "membership_check"("library_id", "checked_at");

-- CreateIndex
CREATE INDEX "membership_check_checked_at_idx" ON "membership_check"("checked_at");

-- CreateIndex
CREATE INDEX "registration_request_state_membership_outcome_idx" ON "registration_request"("state", "membership_outcome");

-- AddForeignKey
ALTER TABLE "membership_connector" ADD CONSTRAINT "membership_connector_library_id_fkey" FOREIGN KEY ("library_id") REFERENCES "library"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "connector_lease" ADD CONSTRAINT "connector_lease_library_id_fkey" FOREIGN KEY ("library_id") REFERENCES "membership_connector"("library_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "membership_check" ADD CONSTRAINT "membership_check_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "registration_request"("id") ON DELETE CASCADE ON UPDATE CASCADE;

