-- The metered categories and their seed limits (4 films, 7 books, 15 magazines, 31 newspapers a
-- month), in force until the DLPB sets a policy. TypeScript's METERED_CATEGORIES mirrors the list
-- (test/modules/quotas checks it).
CREATE OR REPLACE FUNCTION quota_seed_limits() RETURNS TABLE (category "ContentCategory", "limit" int, effective_from char(7))
LANGUAGE sql IMMUTABLE AS $$
  -- The service opened in May 2023.
  VALUES ('FILM'::"ContentCategory", 4, '2023-05'::char(7)), ('BOOK', 7, '2023-05'), ('MAGAZINE', 15, '2023-05'), ('NEWSPAPER', 31, '2023-05')
$$;
