package app_test

import "github.com/chromedp/chromedp"

// The dashboard's two ways in (docs/operators.md), as a browser test takes
// them: each opens /admin.html and submits its form, and leaves waiting for
// what the test expects next.

// signInWithToken signs in to the dashboard with the system's admin token.
func (s *system) signInWithToken() chromedp.Tasks {
	return chromedp.Tasks{s.openSignIn(), submitToken(s.AdminToken)}
}

// openSignIn opens the dashboard signed out, for a test that looks at the
// sign-in forms before it submits one.
func (s *system) openSignIn() chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.Navigate(s.URL + "/admin.html"),
		chromedp.WaitVisible("#token"),
	}
}

// submitToken types a token, the admin's or a wrong one, into the open
// sign-in page's token form and submits it.
func submitToken(token string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.SendKeys("#token", token),
		chromedp.Click("#signin-submit"),
	}
}

// signInAs signs in to the dashboard with an operator's username and
// password.
func (s *system) signInAs(username, password string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.Navigate(s.URL + "/admin.html"),
		chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", username),
		chromedp.SendKeys("#password", password),
		chromedp.Click("#login-submit"),
	}
}
