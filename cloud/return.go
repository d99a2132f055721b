package cloud

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// Return is a return authorisation the cloud issued, or that a merchant
// signed itself and registered.
type Return struct {
	ID       string `json:"ra_id"`
	Merchant string `json:"merchant"`
	Tracking string `json:"tracking"`
	Carrier  string `json:"carrier"`
	// Items are the items of the RA, with their reasons: what reports
	// count by reason and SKU.
	Items     []edge.Item `json:"items,omitempty"`
	Token     string      `json:"token"`
	CreatedAt time.Time   `json:"created_at"`
	ExpiresAt time.Time   `json:"expires_at"`
}

// Generated tracking numbers: a prefix, 13 random digits (43 bits: a
// collision is about 0.6 % likely after 10 million numbers, and each
// collision is caught by the store's uniqueness) and a Luhn check digit.
const (
	trackingPrefix = "CP"
	trackingDigits = 13
)

// NewTracking returns a random tracking number with a check digit, such as
// CP48120957730214. Uniqueness is the store's: CreateReturn refuses a
// number already taken (TRACKING_TAKEN), and the issuer draws again.
func NewTracking() (string, error) {
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(trackingDigits), nil)
	n, err := rand.Int(rand.Reader, max)
	if err != nil {
		return "", fmt.Errorf("new tracking: %w", err)
	}
	digits := fmt.Sprintf("%0*d", trackingDigits, n)
	return trackingPrefix + digits + string(rune('0'+luhn(digits))), nil
}

// ValidGeneratedTracking reports whether s has the form of NewTracking's
// numbers and a right check digit.
func ValidGeneratedTracking(s string) bool {
	if len(s) != len(trackingPrefix)+trackingDigits+1 || !strings.HasPrefix(s, trackingPrefix) {
		return false
	}
	d := s[len(trackingPrefix):]
	for _, r := range d {
		if r < '0' || r > '9' {
			return false
		}
	}
	return int(d[trackingDigits]-'0') == luhn(d[:trackingDigits])
}

// luhn returns the Luhn (mod 10) check digit of a string of digits: it
// catches every single-digit error and most swaps of neighbours.
func luhn(digits string) int {
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return (10 - sum%10) % 10
}

// CreatedParcel returns the parcel a new return opens: the merchant's,
// status created.
func CreatedParcel(r Return) Parcel {
	return Parcel{Tracking: r.Tracking, Merchant: r.Merchant, RAID: r.ID, CreatedAt: r.CreatedAt.UTC(), Status: StatusCreated, Since: r.CreatedAt.UTC()}
}

// CreatedEntry returns the "created" entry that opens the timeline of r.
func CreatedEntry(r Return) TimelineEntry {
	at := r.CreatedAt.UTC()
	return TimelineEntry{Status: StatusCreated, OccurredAt: at, ReceivedAt: at, Source: SourceIssuer, EventID: r.ID}
}
