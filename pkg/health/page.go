package health

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

//go:embed pages.html
var pagesFS embed.FS

var pages = template.Must(template.New("pages").Funcs(template.FuncMap{
	"stamp":     stamp,
	"seconds":   func(s float64) string { return human(time.Duration(s * float64(time.Second))) },
	"human":     human,
	"recordURL": recordURL,
	"cardURL": func(key CardKey, format string) string {
		u := "/health/card?card=" + string(key)
		if format != "" {
			u += "&format=" + format
		}
		return u
	},
	"nextURL": func(key CardKey, token string) string {
		return "/health/card?card=" + string(key) + "&page=" + template.URLQueryEscaper(token)
	},
	"ref": func(r crmsync.RecordRef) string {
		if r.IsZero() {
			return "none yet"
		}
		return r.String()
	},
	"pct": func(p *float64) string { return fmt.Sprintf("%.1f %%", *p) },
}).ParseFS(pagesFS, "pages.html"))

// pageData is what every page template gets.
type pageData struct {
	Title   string
	Notice  string
	Message string
	Report  *Report
	Chart   *chart
	Card    *CardPage
	First   bool
	Record  *RecordCard
}

// render executes a page into a buffer first, so a template failure is a
// clean 500 rather than half a page.
func (h *Handler) render(w http.ResponseWriter, status int, name string, d pageData) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, d); err != nil {
		h.logger().Error("sync health page failed to render", "page", name, "error", err)
		http.Error(w, "the page failed to render", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// Everything is inline: no script runs, nothing loads from elsewhere.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(buf.Bytes()) //nolint:errcheck // the client went away
}

// stamp formats a time for people: UTC to the second.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// human formats a duration to its two largest units.
func human(d time.Duration) string {
	switch {
	case d < time.Second:
		return "under a second"
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%d days %d h", int(d.Hours())/24, int(d.Hours())%24)
	}
}

// chart is the per-hour usage as inline SVG bars.
type chart struct {
	Width, Height int
	Bars          []bar
	// Line is the hourly share of the allocation (allocation / 24) as a
	// y coordinate; 0 when there is no allocation to draw.
	Line  float64
	Max   int64
	Total int64
}

type bar struct {
	X, Y, W, H float64
	Label      string
	Calls      int64
	Tick       bool
}

func newChart(hours []HourUsage, allocation int) *chart {
	const width, height, top = 720, 160, 10
	c := &chart{Width: width, Height: height}
	for _, h := range hours {
		c.Max = max(c.Max, h.Calls)
		c.Total += h.Calls
	}
	scale := float64(c.Max)
	even := float64(allocation) / 24
	if allocation > 0 {
		scale = max(scale, even)
	}
	if scale == 0 {
		scale = 1
	}
	plot := float64(height - top - 20)
	w := float64(width) / float64(max(len(hours), 1))
	for i, h := range hours {
		bh := plot * float64(h.Calls) / scale
		c.Bars = append(c.Bars, bar{X: float64(i)*w + 1, Y: top + plot - bh, W: w - 2, H: bh,
			Label: h.Start.UTC().Format("15:04"), Calls: h.Calls, Tick: i%3 == 0})
	}
	if allocation > 0 {
		c.Line = top + plot - plot*even/scale
	}
	return c
}
