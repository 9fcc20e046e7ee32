package daemon

import (
	"time"

	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/httpapi"
	"github.com/archivd/archivd/internal/verify"
)

// countersObserver feeds verification events into the /metrics counters.
type countersObserver struct{ c *httpapi.Counters }

var _ verify.Observer = countersObserver{}

func (o countersObserver) RunFinished(r catalog.VerifyRun, d time.Duration) {
	o.c.PiecesVerified(int(r.PiecesChecked - r.PiecesFailed))
	o.c.PiecesFailed(int(r.PiecesFailed))
	o.c.RunFinished(string(r.State), d)
}

func (o countersObserver) Repaired(pieces int) { o.c.Repaired(pieces) }

func (o countersObserver) Hashed(bytes int64) { o.c.Hashed(bytes) }
