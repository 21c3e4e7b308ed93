-- AlterTable
ALTER TABLE "registration_request" ADD COLUMN     "decided_automatically" BOOLEAN NOT NULL DEFAULT false;

