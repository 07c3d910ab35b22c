from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        from allauth.account import signals as allauth_account
        from allauth.mfa import signals as mfa
        from axes.signals import user_locked_out
        from django.contrib.auth import signals as auth

        from . import security

        auth.user_logged_in.connect(security.on_signed_in, dispatch_uid="security_signed_in")
        auth.user_logged_out.connect(security.on_signed_out, dispatch_uid="security_signed_out")
        auth.user_login_failed.connect(security.on_sign_in_failed, dispatch_uid="security_sign_in_failed")
        user_locked_out.connect(security.on_locked_out, dispatch_uid="security_locked_out")
        allauth_account.user_logged_in.connect(security.on_allauth_signed_in, dispatch_uid="security_sso_mfa")
        mfa.authentication_failed.connect(security.on_second_factor_failed, dispatch_uid="security_2fa_failed")
        mfa.authenticator_used.connect(security.on_second_factor_used, dispatch_uid="security_2fa_used")
        mfa.authenticator_added.connect(security.on_authenticator_added, dispatch_uid="security_2fa_added")
        mfa.authenticator_removed.connect(security.on_authenticator_removed, dispatch_uid="security_2fa_removed")
        mfa.authenticator_reset.connect(security.on_authenticator_reset, dispatch_uid="security_2fa_reset")
