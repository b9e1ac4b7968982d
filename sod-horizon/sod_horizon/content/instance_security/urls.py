from django.urls import re_path

from sod_horizon.content.instance_security import views

urlpatterns = [
    re_path(r'^$', views.IndexView.as_view(), name='index'),
    re_path(r'^(?P<instance_id>[^/]+)/change/$',
            views.ChangeSecurityView.as_view(), name='change'),
]
