"""API tokens: obtain one with email and password (throttled like every log-in), or revoke it."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, serializers
from rest_framework.authentication import TokenAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services


class CredentialsIn(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenOut(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")


class TokenView(APIView):
    # Credentials come in the body. Token authentication only so that a refusal is a 401 with WWW-Authenticate;
    # no session authentication, so no CSRF check for this form-less endpoint.
    authentication_classes = [TokenAuthentication]
    permission_classes = [permissions.AllowAny]

    @extend_schema(summary="Get your API token", request=CredentialsIn, responses={200: TokenOut})
    def post(self, request: Request) -> Response:
        credentials = CredentialsIn(data=request.data)
        credentials.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=credentials.validated_data["email"],
            password=credentials.validated_data["password"],
        )
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("The email address or password is wrong.")
        return Response({"token": services.api_token_get_or_create(user=user).key})
