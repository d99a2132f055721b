package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/comptoir/comptoir/build/testenv/browser"
)

// TestTrackPageInChromium loads the tracking page in real Chromium, as a
// French browser and as a British one, at the kiosk's two sizes: the
// page's language, its dates in Paris time and the relay point's name as
// the customer reads them, and axe-core finds no violation of the WCAG 2.2
// A and AA rules.
func TestTrackPageInChromium(t *testing.T) {
	ctx := browser.New(t)
	s := trackServer(t, "Europe/Paris")
	if err := s.Open("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	url := "http://" + s.Addr() + "/track/RR123456785FR"

	tests := []struct {
		accept, lang string
		want         []string
	}{
		{"", "fr", []string{"Colis RR123456785FR", "Déposé en point relais", "24 octobre 2026 à 11:30", "26 octobre 2026 à 10:30", "Point relais\u00a0: Tabac du Coin"}},
		{"en-GB,en;q=0.9", "en", []string{"Parcel RR123456785FR", "Dropped off at a relay point", "24 October 2026 at 11:30", "26 October 2026 at 10:30", "Relay point: Tabac du Coin"}},
	}
	for _, tt := range tests {
		headers := network.Headers{}
		if tt.accept != "" {
			headers["Accept-Language"] = tt.accept
		}
		for _, size := range [][2]int64{{800, 480}, {1280, 800}} {
			where := tt.lang + " " + map[int64]string{800: "800x480", 1280: "1280x800"}[size[0]]
			setLang := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: headers})
				return err
			})
			err := chromedp.Do(ctx, setLang, chromedp.EmulateViewport(size[0], size[1]), chromedp.Navigate(url))
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			page, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.documentElement.lang, document.body.innerText]`))
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			lang, text := page[0], page[1]
			if lang != tt.lang {
				t.Errorf("%s: page in %q", where, lang)
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("%s: page lacks %q:\n%s", where, w, text)
				}
			}
			browser.Axe(t, ctx, "track page "+where)
		}
	}
}
