-- A restore loads a table's rows in key order, so a rotated SCIM token may arrive before the token that
-- replaced it: like every self-reference of a tenant table, checked at commit (migration 0601).
ALTER TABLE scim_tokens ALTER CONSTRAINT scim_tokens_replaced_by_fkey DEFERRABLE INITIALLY IMMEDIATE;
