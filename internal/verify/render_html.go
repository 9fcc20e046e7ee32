package verify

import (
	"html/template"
	"io"
)

// The page carries its own CSS and nothing else: it is mailed and archived.
var htmlReport = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>archivd verification run {{.R.Run.ID}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;font-size:.9em}
th{background:#f0f0f0}
.bad{color:#b00020;font-weight:bold}.ok{color:#1b5e20;font-weight:bold}
</style></head><body>
<h1>Verification run {{.R.Run.ID}}</h1>
<table>{{range .Summary}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table>
{{if .R.Findings}}<h2 class="bad">{{len .R.Findings}} findings</h2>
<table><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>{{else}}<p class="ok">No findings.</p>{{end}}
</body></html>
`))

func (r *Report) renderHTML(w io.Writer) error {
	rows := make([][]string, len(r.Findings))
	for i, f := range r.Findings {
		rows[i] = f.row()
	}
	return htmlReport.Execute(w, map[string]any{"R": r, "Summary": r.summary(), "Header": findingHeader, "Rows": rows})
}
