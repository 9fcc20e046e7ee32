package verify

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/rs/zerolog"
)

const childEnv = "ARCHIVD_VERIFY_TEST_CHILD_DB"

// childScrub is the re-executed test binary of the crash test: it runs an
// offline verification slowly (rate-limited) until it is killed.
func childScrub() int {
	ctx := context.Background()
	db, err := catalog.Open(ctx, os.Getenv(childEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer db.Close()
	rate, _ := strconv.ParseInt(os.Getenv("ARCHIVD_VERIFY_TEST_RATE"), 10, 64)
	rb, _ := strconv.ParseInt(os.Getenv("ARCHIVD_VERIFY_TEST_RANGE"), 10, 64)
	cfg := Config{NodeID: "child", Logger: zerolog.New(os.Stderr), Rate: rate, RangeBytes: rb, BlockSize: 16 << 10}
	if _, err := RunOffline(ctx, db, cfg, Scope{}, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
