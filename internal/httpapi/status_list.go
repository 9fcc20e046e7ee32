package httpapi

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/archivd/archivd/internal/catalog"
)

// The status page's torrent list: filtered, searched and sorted on the
// server from query parameters (collection, state, q, sort, desc), so the
// page needs no script and a filtered view is a link.

// listState is what the list shows as a torrent's state, worst first.
func listState(t catalog.TorrentRow) string {
	switch {
	case t.Availability == string(catalog.AvailabilityUnavailable):
		return "unavailable"
	case t.Availability != string(catalog.AvailabilityOK):
		return "degraded"
	case t.OpenFindings > 0:
		return "damaged"
	case t.State == catalog.TorrentPaused || t.CollectionState == string(catalog.TorrentPaused):
		return "paused"
	case int(t.PiecesComplete) < t.PieceCount || t.PieceCount == 0:
		return "incomplete"
	}
	return "ok"
}

// listStates are the states the filter offers.
var listStates = []string{"unavailable", "degraded", "damaged", "paused", "incomplete", "ok"}

// listSorts are the sort keys the list offers.
var listSorts = []string{"name", "collection", "state", "size", "complete", "verified", "uploaded"}

type listRow struct {
	catalog.TorrentRow
	Shown       string // listState
	Reason      string // why unavailable or damaged
	CompletePct float64
}

type torrentList struct {
	Rows                 []listRow
	Total                int // before filtering
	Collection, State, Q string
	Sort                 string
	Desc                 bool
	Collections, States  []string
	Sorts                []string
	Truncated            int // rows not shown past listMax
	Err                  string
}

// listMax caps the rows rendered; a filter narrows the rest.
const listMax = 500

func newList(rows []catalog.TorrentRow, q url.Values) torrentList {
	l := torrentList{Total: len(rows), Collection: q.Get("collection"), State: q.Get("state"),
		Q: strings.TrimSpace(q.Get("q")), Sort: q.Get("sort"), Desc: q.Get("desc") == "1",
		States: listStates, Sorts: listSorts}
	if !slices.Contains(listSorts, l.Sort) {
		l.Sort = "state"
	}
	seen := map[string]bool{}
	for _, t := range rows {
		if !seen[t.Collection] {
			seen[t.Collection] = true
			l.Collections = append(l.Collections, t.Collection)
		}
		r := toRow(t)
		if l.keep(r) {
			l.Rows = append(l.Rows, r)
		}
	}
	slices.SortStableFunc(l.Rows, func(a, b listRow) int {
		c := compareRows(l.Sort, a, b)
		if l.Desc {
			return -c
		}
		return c
	})
	if len(l.Rows) > listMax {
		l.Truncated, l.Rows = len(l.Rows)-listMax, l.Rows[:listMax]
	}
	return l
}

func toRow(t catalog.TorrentRow) listRow {
	r := listRow{TorrentRow: t, Shown: listState(t)}
	if t.PieceCount > 0 {
		r.CompletePct = 100 * float64(t.PiecesComplete) / float64(t.PieceCount)
	}
	switch r.Shown {
	case "unavailable", "degraded":
		r.Reason = t.AvailabilityReason
	case "damaged":
		r.Reason = fmt.Sprintf("%d finding(s) not repaired", t.OpenFindings)
	}
	return r
}

func (l torrentList) keep(r listRow) bool {
	q := strings.ToLower(l.Q)
	return (l.Collection == "" || r.Collection == l.Collection) && (l.State == "" || r.Shown == l.State) &&
		(q == "" || strings.Contains(strings.ToLower(r.Name), q) || strings.HasPrefix(r.InfoHash, q))
}

func compareRows(key string, a, b listRow) int {
	var c int
	switch key {
	case "collection":
		c = cmp.Compare(a.Collection, b.Collection)
	case "state":
		c = cmp.Compare(slices.Index(listStates, a.Shown), slices.Index(listStates, b.Shown))
	case "size":
		c = cmp.Compare(a.TotalLength, b.TotalLength)
	case "complete":
		c = cmp.Compare(a.CompletePct, b.CompletePct)
	case "verified":
		c = cmp.Compare(verifiedKey(a), verifiedKey(b))
	case "uploaded":
		c = cmp.Compare(a.Uploaded, b.Uploaded)
	}
	if c == 0 {
		c = cmp.Compare(a.Name, b.Name)
	}
	return c
}

// verifiedKey orders never verified first.
func verifiedKey(r listRow) int64 {
	if r.OldestVerified == nil {
		return 0
	}
	return r.OldestVerified.Unix()
}

// SortLink is the query of the list sorted by key (toggling the order
// when it is already the key), keeping the filters.
func (l torrentList) SortLink(key string) string {
	v := l.filterValues()
	v.Set("sort", key)
	if l.Sort == key && !l.Desc {
		v.Set("desc", "1")
	}
	return "?" + v.Encode() + "#torrents"
}

func (l torrentList) filterValues() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"collection": l.Collection, "state": l.State, "q": l.Q} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}
