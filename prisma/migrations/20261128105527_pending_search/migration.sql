-- AlterTable
ALTER TABLE "registration_request" ADD COLUMN     "search_text" TEXT;


-- Hand-written (Prisma cannot express partial indexes): the pending queue's search looks at the
-- few requests awaiting a decision only, not at every request ever made.
CREATE INDEX "registration_request_pending_search_trgm" ON "registration_request"
  USING GIN ("search_text" gin_trgm_ops) WHERE "state" = 'AWAITING_DECISION';

-- Requests of patrons still on record get their copy.
UPDATE "registration_request" r SET "search_text" = p."search_text" FROM "patron" p WHERE p."id" = r."patron_id";
