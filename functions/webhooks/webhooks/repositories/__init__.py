"""The processor's data access: plain SQL, one small keyword-only function per statement."""
