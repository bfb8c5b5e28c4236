// Empty: tandem_test_pch exists only to build tests/test_pch.h.
