package httpapi

import (
	"bytes"
	"fmt"
	"html/template"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/text/language"

	"github.com/comptoir/comptoir/cloud"
)

// trackLangs are the languages of the tracking page, the default first:
// a customer whose browser asks for none of them reads French.
var trackLangs = []language.Tag{language.French, language.English}

var trackMatcher = language.NewMatcher(trackLangs)

// trackLanguage returns the index in trackLangs of the language that suits
// an Accept-Language header best; a missing or malformed header, or one
// that names no language of ours, gives the default.
func trackLanguage(accept string) int {
	tags, _, err := language.ParseAcceptLanguage(accept)
	if err != nil || len(tags) == 0 {
		return 0
	}
	_, i, conf := trackMatcher.Match(tags...)
	if conf == language.No {
		return 0
	}
	return i
}

// trackText is the tracking page in one language.
type trackText struct {
	Lang       string
	Title      string // of the page, with the tracking number
	NoNews     string
	RelayPoint string // before a relay point's name
	Zone       string // the footnote naming the time zone
	Status     map[cloud.Status]string
	Unknown    string // a status the catalog does not name
	Months     [12]string
	DateTime   string // day, month name, year, hh:mm
}

// trackTexts follow trackLangs.
var trackTexts = []trackText{{
	Lang:       "fr",
	Title:      "Colis %s",
	NoNews:     "Pas encore de nouvelles de ce colis.",
	RelayPoint: "Point relais\u00a0: ",
	Zone:       "Heures locales (%s).",
	Status: map[cloud.Status]string{
		cloud.StatusCreated:             "Retour autorisé",
		cloud.StatusDeposited:           "Déposé en point relais",
		cloud.StatusCancelled:           "Dépôt annulé",
		cloud.StatusReceivedInStore:     "Rapporté en magasin",
		cloud.StatusHandedOver:          "Remis au transporteur",
		cloud.StatusInTransit:           "En transit",
		cloud.StatusReceivedAtWarehouse: "Reçu à l'entrepôt",
		cloud.StatusRefunded:            "Remboursé",
		cloud.StatusExchanged:           "Échangé",
	},
	Unknown:  "Étape suivante",
	Months:   [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
	DateTime: "%d %s %d à %02d:%02d",
}, {
	Lang:       "en",
	Title:      "Parcel %s",
	NoNews:     "No news of this parcel yet.",
	RelayPoint: "Relay point: ",
	Zone:       "Local times (%s).",
	Status: map[cloud.Status]string{
		cloud.StatusCreated:             "Return authorised",
		cloud.StatusDeposited:           "Dropped off at a relay point",
		cloud.StatusCancelled:           "Drop-off cancelled",
		cloud.StatusReceivedInStore:     "Returned in store",
		cloud.StatusHandedOver:          "Handed to the carrier",
		cloud.StatusInTransit:           "In transit",
		cloud.StatusReceivedAtWarehouse: "Received at the warehouse",
		cloud.StatusRefunded:            "Refunded",
		cloud.StatusExchanged:           "Exchanged",
	},
	Unknown:  "Next step",
	Months:   [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	DateTime: "%d %s %d at %02d:%02d",
}}

func (l trackText) status(s cloud.Status) string {
	if t, ok := l.Status[s]; ok {
		return t
	}
	return l.Unknown
}

// when writes t (already in the network's zone) as a customer of l reads
// a date.
func (l trackText) when(t time.Time) string {
	return fmt.Sprintf(l.DateTime, t.Day(), l.Months[t.Month()-1], t.Year(), t.Hour(), t.Minute())
}

var trackTmpl = template.Must(template.New("track").Parse(`<!doctype html>
<html lang="{{.T.Lang}}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:2em auto;padding:0 1em;color:#1a1a1a}
li{margin:.5em 0}time,.where{color:#4a4a4a;display:block;font-size:.9em}</style>
</head><body>
<main>
<h1>{{.Title}}</h1>
{{if .Steps}}<ol>
{{range .Steps}}<li><strong>{{.Text}}</strong><time datetime="{{.At.Format "2006-01-02T15:04:05Z07:00"}}">{{.When}}</time>{{if .RelayPoint}}<span class="where">{{$.T.RelayPoint}}{{.RelayPoint}}</span>{{end}}</li>
{{end}}</ol>
<p><small>{{.Zone}}</small></p>
{{else}}<p>{{.T.NoNews}}</p>
{{end}}</main></body></html>
`))

// trackStep is a step of the page, its words in the page's language.
type trackStep struct {
	cloud.TrackStep
	Text, When string
}

// trackPage is a plain page of a parcel's timeline, for customers, in the
// language their browser asks for (French by default), with times in the
// network's time zone and the relay point's name: nothing else of the
// timeline (see cloud.Tracker).
func (s *Server) trackPage(c *fiber.Ctx) error {
	tracker := s.Tracker
	if tracker == nil {
		tracker = &cloud.Tracker{Store: s.Store}
	}
	tracking := c.Params("tracking")
	steps, err := tracker.Track(c.UserContext(), tracking)
	if err != nil {
		return err
	}
	l := trackTexts[trackLanguage(c.Get(fiber.HeaderAcceptLanguage))]
	page := struct {
		T           trackText
		Title, Zone string
		Steps       []trackStep
	}{T: l, Title: fmt.Sprintf(l.Title, tracking)}
	for _, st := range steps {
		page.Steps = append(page.Steps, trackStep{st, l.status(st.Status), l.when(st.At)})
		page.Zone = fmt.Sprintf(l.Zone, st.At.Location())
	}
	var buf bytes.Buffer
	if err := trackTmpl.Execute(&buf, page); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderContentLanguage, l.Lang)
	c.Vary(fiber.HeaderAcceptLanguage)
	c.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	return c.Send(buf.Bytes())
}
