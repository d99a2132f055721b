package edge

import "net/http"

// HTTPStatus returns the HTTP status that answers an error of the given
// code, for both HTTP APIs (the kiosk's and the cloud's), so that the same
// code gets the same status on each. A refusal code (OVERWEIGHT, EXPIRED,
// ... and REFUSED) is answered 422: the request was understood and the
// counter says no.
func HTTPStatus(code string) int {
	switch code {
	case EINVALID, EBADTEXT:
		return http.StatusBadRequest
	case EMISDIRECTED:
		return http.StatusMisdirectedRequest
	case EMEDIATYPE:
		return http.StatusUnsupportedMediaType
	case EUNAUTHORIZED:
		return http.StatusUnauthorized
	case EFORBIDDEN:
		return http.StatusForbidden
	case ENOTFOUND:
		return http.StatusNotFound
	case ECONFLICT, EHANDEDOVER, ECANCELLED, ENOTONSHELF:
		return http.StatusConflict
	case ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case ELOCKED, ERATELIMITED:
		return http.StatusTooManyRequests
	case EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case EUNSUPPORTED:
		return http.StatusNotImplemented
	case string(StorageFull):
		return http.StatusInsufficientStorage
	case EINTERNAL, EPRINTER:
		return http.StatusInternalServerError
	}
	return http.StatusUnprocessableEntity
}
