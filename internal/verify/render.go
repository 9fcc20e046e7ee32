package verify

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Formats Render accepts.
var Formats = []string{"table", "json", "csv", "markdown", "html"}

// Render writes the report as table, json, csv (findings, one per row),
// markdown or html (one self-contained page).
func (r *Report) Render(w io.Writer, format string) error {
	switch format {
	case "table", "":
		return r.renderTable(w)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "csv":
		return r.renderCSV(w)
	case "markdown", "md":
		return r.renderMarkdown(w)
	case "html":
		return r.renderHTML(w)
	}
	return fmt.Errorf("verify: report format %q is not one of %s", format, strings.Join(Formats, ", "))
}

// summary is the run's headline facts, in display order.
func (r *Report) summary() [][2]string {
	run := r.Run
	s := [][2]string{
		{"run", strconv.FormatInt(run.ID, 10)},
		{"kind", string(run.Kind)},
		{"state", string(run.State)},
		{"scope", r.scopeText()},
		{"started", fmtTime(run.StartedAt)},
		{"finished", fmtTime(run.FinishedAt)},
		{"duration", (time.Duration(r.DurationSeconds * float64(time.Second))).Round(time.Millisecond).String()},
		{"bytes hashed", fmt.Sprintf("%d of %d planned", run.BytesHashed, run.BytesPlanned)},
		{"throughput", fmt.Sprintf("%.1f MB/s", r.Throughput/1e6)},
		{"pieces checked", strconv.FormatInt(run.PiecesChecked, 10)},
		{"pieces failed", strconv.FormatInt(run.PiecesFailed, 10)},
		{"pieces repaired", strconv.FormatInt(run.PiecesRepaired, 10)},
	}
	if run.Error != "" {
		s = append(s, [2]string{"note", run.Error})
	}
	return s
}

func (r *Report) scopeText() string {
	if r.Scope.empty() {
		return "all torrents"
	}
	var parts []string
	if len(r.Scope.Collections) > 0 {
		parts = append(parts, "collections "+strings.Join(r.Scope.Collections, ","))
	}
	if len(r.Scope.Torrents) > 0 {
		parts = append(parts, "torrents "+strings.Join(r.Scope.Torrents, ","))
	}
	return strings.Join(parts, "; ")
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

var findingHeader = []string{"torrent", "infohash", "piece", "kind", "file", "offset", "state", "detected", "last_seen", "seen", "repaired", "source", "detail"}

func (f Finding) row() []string {
	file := "-"
	if f.FileIndex >= 0 {
		file = fmt.Sprintf("%d:%s", f.FileIndex, f.FilePath)
	}
	return []string{f.Torrent, f.InfoHash, f.Range(), string(f.Kind), file, strconv.FormatInt(f.FileOffset, 10),
		string(f.State), f.DetectedAt.UTC().Format(time.RFC3339), f.LastSeenAt.UTC().Format(time.RFC3339), strconv.Itoa(f.SeenCount), fmtTime(f.RepairedAt), f.RepairSource, f.Detail}
}

func (r *Report) renderTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, kv := range r.summary() {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
	}
	if len(r.Findings) > 0 {
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, strings.ToUpper(strings.Join(findingHeader[:12], "\t")))
		for _, f := range r.Findings {
			fmt.Fprintln(tw, strings.Join(f.row()[:12], "\t"))
		}
	}
	return tw.Flush()
}

func (r *Report) renderCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(append([]string{"run"}, findingHeader...))
	for _, f := range r.Findings {
		_ = cw.Write(append([]string{strconv.FormatInt(r.Run.ID, 10)}, f.row()...))
	}
	cw.Flush()
	return cw.Error()
}

func mdEscape(s string) string { return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s) }

func (r *Report) renderMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Verification run %d\n\n", r.Run.ID)
	for _, kv := range r.summary() {
		fmt.Fprintf(&b, "- **%s**: %s\n", kv[0], mdEscape(kv[1]))
	}
	if len(r.Findings) > 0 {
		fmt.Fprintf(&b, "\n## Findings\n\n| %s |\n|%s\n", strings.Join(findingHeader, " | "), strings.Repeat("---|", len(findingHeader)))
		for _, f := range r.Findings {
			cells := f.row()
			for i := range cells {
				cells[i] = mdEscape(cells[i])
			}
			fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
		}
	} else {
		b.WriteString("\nNo findings.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
