/**
 * Security on Demand in the Dashboard.
 *
 * Adds a "Security" step after "Flavor" to Horizon's Launch Instance wizard.
 * The step keeps the customer's choice in newInstanceSpec.sod_meta; the
 * decorated createServer merges it into the server's metadata at launch,
 * over (not instead of) what the Metadata step adds, because that step
 * replaces spec.meta whenever it has entries.
 */
(function () {
  'use strict';

  angular
    .module('horizon.dashboard.sod', [
      'horizon.app.core.openstack-service-api',
      'horizon.dashboard.project.workflow.launch-instance'
    ])
    .config(config);

  config.$inject = ['$provide', '$windowProvider'];

  function config($provide, $windowProvider) {
    $provide.constant('horizon.dashboard.sod.basePath',
      $windowProvider.$get().STATIC_URL + 'dashboard/sod/');
    $provide.decorator('horizon.app.core.openstack-service-api.nova',
      ['$delegate', mergeSecurityChoice]);
    // A decorator, not a run block: the workflow (and the services it
    // needs, which call the API) is only built when Launch Instance opens,
    // never on the login page.
    $provide.decorator('horizon.dashboard.project.workflow.launch-instance.workflow',
      ['$delegate', 'horizon.dashboard.sod.basePath', addSecurityStep]);
  }

  function mergeSecurityChoice($delegate) {
    var createServer = $delegate.createServer;
    $delegate.createServer = function (spec) {
      if (spec && spec.sod_meta) {
        spec.meta = angular.extend({}, spec.meta || {}, spec.sod_meta);
      }
      if (spec) {
        delete spec.sod_meta;
      }
      return createServer.apply($delegate, arguments);
    };
    return $delegate;
  }

  function addSecurityStep(launchInstanceWorkflow, basePath) {
    launchInstanceWorkflow.after('flavor', {
      id: 'security',
      title: gettext('Security'),
      templateUrl: basePath + 'launch-instance/security.html',
      helpUrl: basePath + 'launch-instance/security.help.html',
      formName: 'launchInstanceSecurityForm'
    });
    return launchInstanceWorkflow;
  }
})();
