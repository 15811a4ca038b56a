// Renderer entry: global styles, the theme before the first paint, then the app with this page's lab.
import { createApp } from 'vue'
import App from './App.vue'
import './styles.css'
import { useTheme } from './composables/useTheme'
import { pickLab } from './get-lab'
import { LAB_KEY } from './lab-context'

useTheme()
createApp(App).provide(LAB_KEY, pickLab()).mount('#app')
