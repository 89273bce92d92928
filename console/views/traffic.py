from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def traffic_list(request):
    return render(request, "console/traffic_list.html")
