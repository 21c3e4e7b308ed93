-- AlterTable
ALTER TABLE "email_outbox" ADD COLUMN     "mentions" UUID[] DEFAULT ARRAY[]::UUID[];

-- CreateIndex
CREATE INDEX "email_outbox_mentions_idx" ON "email_outbox" USING GIN ("mentions");

