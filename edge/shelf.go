package edge

import (
	"context"
	"fmt"
	"time"
)

// Shelf states: a warning near full lets the shopkeeper call the carrier
// before deposits are refused with SHELF_FULL.
const (
	ShelfOK        = "ok"
	ShelfWarning   = "warning"
	ShelfFullState = "full"
)

// ShelfWarnPercent is the fill level from which the shelf is in warning.
const ShelfWarnPercent = 90

// ShelfItem is a parcel on the shelf as the kiosk shows it.
type ShelfItem struct {
	ShelfParcel
	AgeS float64 `json:"age_s"`
	// Overdue is set once the parcel has waited longer than the hold time.
	Overdue bool `json:"overdue"`
}

// ShelfView is the shelf: what waits for the carrier, and how full it is.
type ShelfView struct {
	Parcels  []ShelfItem `json:"parcels"`
	Count    int         `json:"count"`
	Capacity int         `json:"capacity"`
	// Total is the number of parcels on the whole shelf, when Parcels is
	// filtered by carrier.
	Total     int     `json:"total"`
	State     string  `json:"state"`
	HoldTimeS float64 `json:"hold_time_s"`
	Overdue   int     `json:"overdue"`
	// Carriers counts the parcels of each carrier on the whole shelf.
	Carriers map[string]int `json:"carriers"`
}

// Shelf returns the parcels on the shelf, oldest first, of carrier only when
// carrier is not empty.
func (d *Desk) Shelf(ctx context.Context, carrier string) (ShelfView, error) {
	rules := d.Rules()
	parcels, err := d.Journal.Shelf(ctx)
	if err != nil {
		return ShelfView{}, fmt.Errorf("shelf: %w", err)
	}
	now := d.now()
	v := ShelfView{
		Parcels: []ShelfItem{}, Capacity: rules.ShelfCapacity, Total: len(parcels),
		HoldTimeS: rules.HoldTime.Seconds(), Carriers: map[string]int{},
	}
	for _, p := range parcels {
		v.Carriers[p.Carrier]++
		if carrier != "" && p.Carrier != carrier {
			continue
		}
		age := max(now.Sub(p.DepositedAt), 0)
		it := ShelfItem{ShelfParcel: p, AgeS: age.Truncate(time.Second).Seconds()}
		it.Overdue = rules.HoldTime > 0 && age > rules.HoldTime
		if it.Overdue {
			v.Overdue++
		}
		v.Parcels = append(v.Parcels, it)
	}
	v.Count = len(v.Parcels)
	v.State = shelfState(v.Total, rules.ShelfCapacity)
	return v, nil
}

func shelfState(n, capacity int) string {
	switch {
	case n >= capacity:
		return ShelfFullState
	case n*100 >= capacity*ShelfWarnPercent:
		return ShelfWarning
	}
	return ShelfOK
}
