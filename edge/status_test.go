package edge_test

import (
	"net/http"
	"testing"

	"github.com/comptoir/comptoir/edge"
)

func TestHTTPStatus(t *testing.T) {
	tests := []struct {
		code string
		want int
	}{
		{edge.EINVALID, http.StatusBadRequest},
		{edge.EUNAUTHORIZED, http.StatusUnauthorized},
		{edge.EFORBIDDEN, http.StatusForbidden},
		{edge.ENOTFOUND, http.StatusNotFound},
		{edge.ECONFLICT, http.StatusConflict},
		{edge.EHANDEDOVER, http.StatusConflict},
		{edge.ETOOLARGE, http.StatusRequestEntityTooLarge},
		{edge.ELOCKED, http.StatusTooManyRequests},
		{edge.ERATELIMITED, http.StatusTooManyRequests},
		{edge.EUNAVAILABLE, http.StatusServiceUnavailable},
		{edge.EUNSUPPORTED, http.StatusNotImplemented},
		{string(edge.StorageFull), http.StatusInsufficientStorage},
		{edge.EINTERNAL, http.StatusInternalServerError},
		{edge.EPRINTER, http.StatusInternalServerError},
		{edge.EREFUSED, http.StatusUnprocessableEntity},
		{string(edge.Overweight), http.StatusUnprocessableEntity},
		{string(edge.BadCheckDigit), http.StatusUnprocessableEntity},
		{string(edge.Expired), http.StatusUnprocessableEntity},
	}
	for _, tt := range tests {
		if got := edge.HTTPStatus(tt.code); got != tt.want {
			t.Errorf("HTTPStatus(%q) = %d, want %d", tt.code, got, tt.want)
		}
	}
}
