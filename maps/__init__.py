"""Offline folium/Leaflet rendering of the plan and progress maps."""
