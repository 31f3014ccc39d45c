from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length


class SignInForm(FlaskForm):
    # Stripped: a phone keyboard's autocomplete often leaves a space after the address.
    email = EmailField("Email", filters=[lambda value: value.strip() if value else value],
                       validators=[DataRequired("Enter your email address."),
                                   Email("Enter an email address like name@example.org.", check_deliverability=False),
                                   Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=200)])
    # Default on: a lone worker must not find themselves signed out on the road.
    remember = BooleanField("Keep me signed in on this phone", default=True)


class SignOutForm(FlaskForm):
    """Only a CSRF token: signing out changes state, so it is a POST."""
