-- CreateIndex
CREATE INDEX "patron_status_last_name_id_idx" ON "patron"("status", "last_name", "id");

