from django.urls import re_path

from sod_horizon.content.security_on_demand import views

urlpatterns = [
    re_path(r'^$', views.IndexView.as_view(), name='index'),
]
