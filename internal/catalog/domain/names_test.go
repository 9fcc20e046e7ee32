package domain

import "testing"

func TestValidCollectionNameRefusesDotNamesAndOverlongNames(t *testing.T) {
	t.Parallel()
	long := make([]byte, 129)
	for i := range long {
		long[i] = 'a'
	}
	for name, want := range map[string]bool{
		"linux-isos": true, "a": true, "A.b_c-1": true, string(long[:128]): true,
		"": false, ".": false, "..": false, ".hidden": false, "-x": false, "a b": false, "a/b": false, string(long): false,
	} {
		if got := ValidCollectionName(name); got != want {
			t.Errorf("ValidCollectionName(%q) = %v, want %v", name, got, want)
		}
	}
}
