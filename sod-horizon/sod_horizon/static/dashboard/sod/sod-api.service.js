/**
 * The plugin's REST API (/api/sod/), in the style of Horizon's
 * openstack-service-api services.
 */
(function () {
  'use strict';

  angular
    .module('horizon.dashboard.sod')
    .factory('horizon.dashboard.sod.api', sodAPI);

  sodAPI.$inject = [
    'horizon.framework.util.http.service',
    'horizon.framework.widgets.toast.service'
  ];

  function sodAPI(apiService, toastService) {
    return {
      getChoices: getChoices,
      check: check
    };

    function getChoices() {
      return apiService.get('/api/sod/choices/')
        .then(function (response) { return response.data; })
        .catch(function onError() {
          toastService.add('error', gettext('Unable to read the security packages.'));
        });
    }

    function check(choice) {
      return apiService.post('/api/sod/check/', choice)
        .then(function (response) { return response.data; });
    }
  }
})();
