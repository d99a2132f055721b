package httpapi

import (
	"bytes"
	"fmt"
	"html/template"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// The report page (GET /reports) is plain HTML rendered here, its charts
// inline SVG: no script, no asset from anywhere (its CSP says so). People
// sign in with their API key (POST /reports/session); the browser then
// holds a signed session (cloud.ReportSessions), never the key.

const reportCookie = "comptoir_reports"

// palette colours the series of a chart, in order (dark enough to carry
// white text and to stand out on white: 4.5:1 or more).
var palette = []string{"#1f5f99", "#a4262c", "#2e7d32", "#6a3d9a", "#8a5a00", "#00695c", "#ad1457", "#455a64"}

// bar is one rectangle of a chart with its title (the tooltip and the
// figure read out).
type bar struct {
	X, Y, W, H float64
	Fill       string
	Title      string
}

// chart is an SVG chart: bars, labels along the x axis and a legend.
type chart struct {
	W, H   float64
	Bars   []bar
	Labels []label
	Legend []legend
}

type label struct {
	X, Y float64
	Text string
}

type legend struct {
	Fill, Text string
}

const chartW, chartH, chartPad, chartBase = 720.0, 220.0, 40.0, 190.0

// stacked draws series as stacked bars, one bar per column.
func stacked(columns []string, series []cloud.Series) chart {
	c := chart{W: chartW, H: chartH}
	var max int64 = 1
	for i := range columns {
		var sum int64
		for _, s := range series {
			sum += s.Values[i]
		}
		max = maxInt(max, sum)
	}
	slot := (chartW - chartPad) / float64(maxInt(1, int64(len(columns))))
	scale := (chartBase - 10) / float64(max)
	w := min(slot*0.7, 60)
	// The scale: the height of the tallest bar.
	c.Labels = append(c.Labels, label{X: chartPad / 2, Y: chartBase - (chartBase - 10) + 4, Text: fmt.Sprint(max)})
	for i, col := range columns {
		x, y := chartPad+float64(i)*slot+(slot-w)/2, chartBase
		for j, s := range series {
			if s.Values[i] == 0 {
				continue
			}
			h := float64(s.Values[i]) * scale
			y -= h
			c.Bars = append(c.Bars, bar{X: x, Y: y, W: w, H: h, Fill: palette[j%len(palette)],
				Title: fmt.Sprintf("%s, %s: %d", col, keyText(s.Key), s.Values[i])})
		}
		if len(columns) <= 16 || i%((len(columns)+15)/16) == 0 {
			c.Labels = append(c.Labels, label{X: x + w/2, Y: chartBase + 16, Text: col})
		}
	}
	for j, s := range series {
		c.Legend = append(c.Legend, legend{Fill: palette[j%len(palette)], Text: keyText(s.Key)})
	}
	return c
}

func maxInt(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// keyText shows the empty key of a report's row.
func keyText(k string) string {
	if k == "" {
		return "(none)"
	}
	return k
}

// rowsSeries turns report rows into one series of their returns, a
// column per row.
func rowsSeries(rows []cloud.ReportRow) ([]string, []cloud.Series) {
	cols := make([]string, len(rows))
	s := cloud.Series{Key: "returns", Values: make([]int64, len(rows))}
	for i, r := range rows {
		cols[i], s.Values[i] = keyText(r.Key), r.Returns
	}
	return cols, []cloud.Series{s}
}

// ageLabels names the age buckets of cloud.StuckAgeBounds.
func ageLabels() []string {
	out := []string{}
	prev := "0"
	for _, b := range cloud.StuckAgeBounds {
		d := fmt.Sprintf("%dd", int(b.Hours()/24))
		out = append(out, prev+" to "+d)
		prev = d
	}
	return append(out, "over "+prev)
}

// reportView is what the page's template shows.
type reportView struct {
	Key                       cloud.APIKey
	In                        cloud.Insight
	Periods                   []string
	Reasons, Dispositions     chart
	Resolutions, Stuck        chart
	DispositionCols, ResCols  []string
	AgeLabels                 []string
	DispositionRows, ResRows  []cloud.ReportRow
	StuckSeries, ReasonSeries []cloud.Series
	Error                     string
}

// reportPage answers GET /reports: the sign-in form without a session,
// else the report of ?from=DAY&to=DAY (the last 30 days by default).
func (s *Server) reportPage(c *fiber.Ctx) error {
	now := s.now()
	k, err := s.reportSessions().Check(c.UserContext(), c.Cookies(reportCookie), now)
	if err != nil {
		if code := edge.ErrorCode(err); code != edge.EUNAUTHORIZED && code != edge.EFORBIDDEN {
			return err
		}
		return sendPage(c, fiber.StatusOK, signInTmpl, "")
	}
	from := c.Query("from", now.UTC().AddDate(0, 0, -29).Format(time.DateOnly))
	to := c.Query("to", now.UTC().Format(time.DateOnly))
	in, err := s.Reports.Insight(c.UserContext(), s.Store, k.Scope(), from, to, now)
	if err != nil {
		if edge.ErrorCode(err) != edge.EINVALID {
			return err
		}
		return sendPage(c, fiber.StatusBadRequest, reportTmpl, reportView{Key: k, In: cloud.Insight{From: from, To: to}, Error: edge.ErrorMessage(err)})
	}
	v := reportView{Key: k, In: in, AgeLabels: ageLabels(), ReasonSeries: in.Reasons, DispositionRows: in.Dispositions, ResRows: in.Resolutions}
	for _, p := range in.Periods {
		v.Periods = append(v.Periods, p.Format("01-02"))
	}
	v.Reasons = stacked(v.Periods, in.Reasons)
	var ds, rs []cloud.Series
	v.DispositionCols, ds = rowsSeries(in.Dispositions)
	v.ResCols, rs = rowsSeries(in.Resolutions)
	v.Dispositions, v.Resolutions = stacked(v.DispositionCols, ds), stacked(v.ResCols, rs)
	for _, st := range in.Stuck {
		v.StuckSeries = append(v.StuckSeries, cloud.Series{Key: string(st.Stage), Values: st.Counts})
	}
	v.Stuck = stacked(v.AgeLabels, v.StuckSeries)
	return sendPage(c, fiber.StatusOK, reportTmpl, v)
}

// postReportSession signs in with the form's API key (field key) and goes
// to the report; a key refused shows the form again with why.
func (s *Server) postReportSession(c *fiber.Ctx) error {
	if err := sameSite(c); err != nil {
		return err
	}
	token, _, err := s.reportSessions().SignIn(c.UserContext(), c.FormValue("key"), s.now())
	if err != nil {
		if code := edge.ErrorCode(err); code != edge.EUNAUTHORIZED && code != edge.EFORBIDDEN {
			return err
		}
		return sendPage(c, edge.HTTPStatus(edge.ErrorCode(err)), signInTmpl, edge.ErrorMessage(err))
	}
	c.Cookie(&fiber.Cookie{Name: reportCookie, Value: token, Path: "/reports", HTTPOnly: true, Secure: c.Protocol() == "https",
		SameSite: fiber.CookieSameSiteStrictMode, MaxAge: int(cloud.ReportSessionTTL.Seconds())})
	return c.Redirect("/reports", fiber.StatusSeeOther)
}

// deleteReportSession signs out.
func (s *Server) deleteReportSession(c *fiber.Ctx) error {
	if err := sameSite(c); err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: reportCookie, Value: "", Path: "/reports", HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode, MaxAge: -1})
	return c.Redirect("/reports", fiber.StatusSeeOther)
}

// sameSite refuses a form posted from another site (as Go's
// net/http.CrossOriginProtection does): a request with no Sec-Fetch-Site
// (a script) passes.
func sameSite(c *fiber.Ctx) error {
	if c.Get("Sec-Fetch-Site") == "cross-site" {
		return edge.Errorf(edge.EFORBIDDEN, "Cross-site requests are refused.")
	}
	return nil
}

// reportSessions is the use case of the page's sign-in, on the store.
func (s *Server) reportSessions() *cloud.ReportSessions {
	return &cloud.ReportSessions{Store: s.Store}
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func sendPage(c *fiber.Ctx, status int, t *template.Template, data any) error {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	return c.Status(status).Send(buf.Bytes())
}

const pageHead = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{block "title" .}}Comptoir reports{{end}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60em;margin:1.5em auto;padding:0 1em;color:#1a1a1a}
svg{max-width:100%;height:auto;border:1px solid #ccc;background:#fff}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #bbb;padding:.2em .5em;text-align:right}
th:first-child,td:first-child{text-align:left}.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:1em}
.sw{display:inline-block;width:1em;height:1em;margin-right:.3em;vertical-align:middle}
.error{color:#a4262c;font-weight:bold}label{display:block;margin:.5em 0}</style>
</head><body>`

var signInTmpl = template.Must(template.New("signin").Parse(pageHead + `<main>
<h1>Comptoir reports</h1>
<p>Sign in with your API key: an issuer key shows your returns, an operator key the whole network.</p>
{{if .}}<p class="error" role="alert" id="signin-error">{{.}}</p>{{end}}
<form method="post" action="/reports/session">
<label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="off" required>
<button type="submit">Sign in</button>
</form></main></body></html>`))

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"n": func(f float64) string { return fmt.Sprintf("%.1f", f) },
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
}).Parse(pageHead + `{{define "chart"}}<svg viewBox="0 0 {{n .C.W}} {{n .C.H}}" width="{{n .C.W}}" height="{{n .C.H}}" role="img" aria-labelledby="{{.ID}}-t">
<title id="{{.ID}}-t">{{.Title}}</title>
<line x1="40" y1="190" x2="716" y2="190" stroke="#333"/>
{{range .C.Bars}}<rect x="{{n .X}}" y="{{n .Y}}" width="{{n .W}}" height="{{n .H}}" fill="{{.Fill}}"><title>{{.Title}}</title></rect>
{{end}}{{range .C.Labels}}<text x="{{n .X}}" y="{{n .Y}}" font-size="11" text-anchor="middle" fill="#1a1a1a">{{.Text}}</text>
{{end}}</svg>
{{if gt (len .C.Legend) 1}}<ul class="legend">{{range .C.Legend}}<li><span class="sw" style="background:{{.Fill}}"></span>{{.Text}}</li>{{end}}</ul>{{end}}{{end}}
<header><form method="post" action="/reports/session/end"><p>Signed in as {{if .Key.Merchant}}merchant <strong>{{.Key.Merchant}}</strong>{{else}}the network's operator{{end}}.
<button type="submit">Sign out</button></p></form></header>
<main>
<h1>Returns insight</h1>
<form method="get" action="/reports"><label for="from">From</label><input id="from" name="from" type="date" value="{{.In.From}}">
<label for="to">To</label><input id="to" name="to" type="date" value="{{.In.To}}"> <button type="submit">Show</button></form>
{{if .Error}}<p class="error" role="alert" id="report-error">{{.Error}}</p>{{else}}
<section aria-labelledby="h-reasons"><h2 id="h-reasons">Returns by reason, by {{if eq .In.PeriodDays 1}}day{{else}}week{{end}} of creation</h2>
{{template "chart" (dict "ID" "reasons" "Title" "Returns created by reason over time" "C" .Reasons)}}
<table id="t-reasons"><caption>Returns created by reason</caption><thead><tr><th scope="col">Reason</th>{{range .Periods}}<th scope="col">{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .ReasonSeries}}<tr><th scope="row">{{if .Key}}{{.Key}}{{else}}(none){{end}}</th>{{range .Values}}<td>{{.}}</td>{{end}}</tr>{{end}}</tbody></table></section>
<section aria-labelledby="h-disp"><h2 id="h-disp">Dispositions of the items received in store</h2>
{{template "chart" (dict "ID" "dispositions" "Title" "Returns by disposition" "C" .Dispositions)}}
<table id="t-dispositions"><caption>Returns by disposition</caption><thead><tr><th scope="col">Disposition</th><th scope="col">Returns</th><th scope="col">Refunded</th><th scope="col">Exchanged</th></tr></thead>
<tbody>{{range .DispositionRows}}<tr><th scope="row">{{.Key}}</th><td>{{.Returns}}</td><td>{{.Refunded}}</td><td>{{.Exchanged}}</td></tr>{{end}}</tbody></table>
<h2 id="h-res">Resolutions</h2>
{{template "chart" (dict "ID" "resolutions" "Title" "Returns by resolution" "C" .Resolutions)}}
<table id="t-resolutions"><caption>Returns by resolution</caption><thead><tr><th scope="col">Resolution</th><th scope="col">Returns</th></tr></thead>
<tbody>{{range .ResRows}}<tr><th scope="row">{{.Key}}</th><td>{{.Returns}}</td></tr>{{end}}</tbody></table></section>
<section aria-labelledby="h-stuck"><h2 id="h-stuck">Parcels waiting, by age</h2>
{{template "chart" (dict "ID" "stuck" "Title" "Parcels waiting by stage and age" "C" .Stuck)}}
<table id="t-stuck"><caption>Parcels waiting by stage and age</caption><thead><tr><th scope="col">Stage</th>{{range .AgeLabels}}<th scope="col">{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .StuckSeries}}<tr><th scope="row">{{.Key}}</th>{{range .Values}}<td>{{.}}</td>{{end}}</tr>{{end}}</tbody></table></section>
{{end}}</main></body></html>`))
