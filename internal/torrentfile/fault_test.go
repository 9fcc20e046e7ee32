package torrentfile

import (
	"crypto/sha1"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHashBatchSurvivesTruncatedMappedFile maps a real file, truncates it,
// then hashes: the access faults (SIGBUS) and must come back as an error
// naming the file, not crash the process.
func TestHashBatchSurvivesTruncatedMappedFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	writeFile(t, p, make([]byte, 1<<20))
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, release, err := mapRange(f, 4096, 1<<20-4096)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	b := &batch{pieces: [][][]byte{{data}}, count: 1, files: []string{p}}
	err = hashBatch(sha1.New(), b, make([]byte, 20))
	t.Logf("error: %v", err)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "truncated while hashing") {
		t.Fatalf("hashBatch on a truncated mapping: %v", err)
	}
}
