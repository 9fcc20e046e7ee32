package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestManPagesAndCompletionAreGeneratedFromTheCLI(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run([]string{"man", dir}, &out, &errb); code != 0 {
		t.Fatalf("archivd man: exit %d: %s", code, errb.String())
	}
	for _, page := range []string{"archivd.1", "archivd-serve.1", "archivd-verify.1", "archivd-add.1"} {
		b, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Fatalf("man page %s: %v", page, err)
		}
		if !strings.Contains(string(b), ".TH \"ARCHIVD\"") {
			t.Errorf("%s is not a man page:\n%.200s", page, b)
		}
	}
	out.Reset()
	if code := run([]string{"completion", "bash"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "archivd") {
		t.Fatalf("archivd completion bash: exit %d, %d bytes", code, out.Len())
	}
}
