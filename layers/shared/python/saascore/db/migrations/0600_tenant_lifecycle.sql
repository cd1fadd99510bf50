-- Tenant lifecycle: active → suspended → active, active|suspended → offboarding → erased (decision 0110).
-- The state lives on the tenant row so the one access query of every request reads it with no extra
-- round trip. `lifecycle_hold` says who holds a suspension: an operator's hold is lifted only by an
-- operator, a billing hold (the `suspended` access level) only by billing.
ALTER TABLE tenants
    ADD COLUMN lifecycle_state text NOT NULL DEFAULT 'active'
        CHECK (lifecycle_state IN ('active', 'suspended', 'offboarding', 'erased')),
    ADD COLUMN lifecycle_hold text CHECK (lifecycle_hold IN ('operator', 'billing')),
    ADD COLUMN lifecycle_note text CHECK (length(lifecycle_note) <= 500),
    ADD COLUMN lifecycle_changed_at timestamptz,
    ADD COLUMN lifecycle_changed_by text CHECK (length(lifecycle_changed_by) <= 320),
    ADD COLUMN erase_after timestamptz,
    ADD CONSTRAINT tenants_lifecycle_hold_matches_state
        CHECK ((lifecycle_state = 'suspended') = (lifecycle_hold IS NOT NULL)),
    ADD CONSTRAINT tenants_erase_after_matches_state
        CHECK ((lifecycle_state = 'offboarding') = (erase_after IS NOT NULL));
