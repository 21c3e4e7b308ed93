-- CreateIndex
CREATE INDEX "registration_request_library_id_decided_at_id_idx" ON "registration_request"("library_id", "decided_at", "id");

-- CreateIndex
CREATE INDEX "registration_request_decided_at_id_idx" ON "registration_request"("decided_at", "id");

