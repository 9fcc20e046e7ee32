package verify

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/rs/zerolog"

	"github.com/archivd/archivd/internal/catalog"
)

// maxLoggedRanges bounds the piece ranges one summary line lists.
const maxLoggedRanges = 8

// badKey is what one summary line is about: a kind of finding in a file.
type badKey struct {
	torrentID int64
	file      string
	kind      catalog.FindingKind
}

// badLog gathers the bad pieces of a run's ranges, so that the run logs
// one warning per torrent, file and kind (a missing 16 GiB file is one
// line, not 65,536); each piece is logged at debug as it is found. Safe
// for the device workers to share.
type badLog struct {
	mu     sync.Mutex
	pieces map[badKey][]int
	order  []badKey
}

// add logs each bad piece at debug and keeps it for the summary.
func (b *badLog) add(log zerolog.Logger, bad []catalog.VerifyFinding) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, f := range bad {
		log.Debug().Int64("torrent_id", f.TorrentID).Int("piece", f.Piece).Str("kind", string(f.Kind)).
			Str("file", f.FilePath).Int64("offset", f.FileOffset).Msg("verify: bad piece")
		k := badKey{f.TorrentID, f.FilePath, f.Kind}
		if b.pieces == nil {
			b.pieces = map[badKey][]int{}
		}
		if _, ok := b.pieces[k]; !ok {
			b.order = append(b.order, k)
		}
		b.pieces[k] = append(b.pieces[k], f.Piece)
	}
}

// flush logs one warning per torrent, file and kind gathered since the
// last flush (count and piece ranges), and forgets them.
func (b *badLog) flush(log zerolog.Logger, runID int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range b.order {
		ps := b.pieces[k]
		log.Warn().Int64("run", runID).Int64("torrent_id", k.torrentID).Str("file", k.file).Str("kind", string(k.kind)).
			Int("pieces", len(ps)).Str("piece_ranges", pieceRanges(ps, maxLoggedRanges)).
			Msg("verify: bad pieces ('archivd report' lists the findings)")
	}
	b.pieces, b.order = nil, nil
}

// pieceRanges writes pieces as "0-9,12,20-25", at most max ranges, then
// how many more there are.
func pieceRanges(ps []int, max int) string {
	ps = slices.Clone(ps)
	slices.Sort(ps)
	ps = slices.Compact(ps)
	var out []string
	more := 0
	for i := 0; i < len(ps); {
		j := i
		for j+1 < len(ps) && ps[j+1] == ps[j]+1 {
			j++
		}
		switch {
		case len(out) == max:
			more++
		case i == j:
			out = append(out, fmt.Sprint(ps[i]))
		default:
			out = append(out, fmt.Sprintf("%d-%d", ps[i], ps[j]))
		}
		i = j + 1
	}
	s := strings.Join(out, ",")
	if more > 0 {
		s += fmt.Sprintf(" and %d more ranges", more)
	}
	return s
}
